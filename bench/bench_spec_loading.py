"""Spec loading: a big spec as YAML (libyaml's C parser) against the same data as JSON, and the
pure-Python YAML loader the spec loader replaced. Run: ``python3 bench/bench_spec_loading.py [N]``.

The spec is the example with N workloads (copies of ``embed``, default 20,000: the workload limit);
the figure is ``load_spec`` end to end (read, parse, validate every field, reference and name), and
the parse alone with PyYAML's pure-Python ``SafeLoader`` for comparison.
"""

from __future__ import annotations

import copy
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from planner.spec import load_spec  # noqa: E402


def spec_data(workloads: int) -> dict[str, object]:
    data = yaml.safe_load((ROOT / "examples" / "maia-pilot.yaml").read_text(encoding="utf-8"))
    template = next(w for w in data["workloads"] if w["name"] == "embed")
    data["workloads"] += [{**copy.deepcopy(template), "name": f"w-{i:06d}"} for i in range(workloads - 8)]
    return data


def timed(label: str, action: object) -> None:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{label}: {time.perf_counter() - start:.2f} s (peak RSS so far {peak:.0f} MiB)")


def main() -> None:
    workloads = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    data = spec_data(workloads)
    with tempfile.TemporaryDirectory() as directory:
        as_yaml, as_json = Path(directory) / "spec.yaml", Path(directory) / "spec.json"
        as_yaml.write_text(yaml.dump(data, sort_keys=False, Dumper=yaml.CSafeDumper), encoding="utf-8")
        as_json.write_text(json.dumps(data), encoding="utf-8")
        print(
            f"{workloads:,} workloads: YAML {as_yaml.stat().st_size / 1e6:.1f} MB, JSON {as_json.stat().st_size / 1e6:.1f} MB"
        )
        timed("load_spec JSON", lambda: load_spec(as_json))
        timed("load_spec YAML (C parser)", lambda: load_spec(as_yaml))
        timed("parse only, pure-Python SafeLoader", lambda: yaml.load(as_yaml.read_text(), Loader=yaml.SafeLoader))


if __name__ == "__main__":
    main()
