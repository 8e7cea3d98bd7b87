"""Benchmark: maiaplan-guard over a 2,000-resource stack, through the real analyzer protocol.

The stack is the test corpus' clean multi-cloud stack (tests/policies/guard_corpus.py: Azure scale
sets on dedicated hosts, AWS launch templates and auto-scaling groups, GCP TPU VMs, their networks,
security rules, peerings, components and providers) replicated until it holds 2,000 resources, each
copy with its own URNs and dependencies. One pack process is started (timed apart); then each round
runs ``Analyze`` on every resource and one ``AnalyzeStack``, as the CLI does in a preview.

Target: evaluating the stack takes under 3 s after the pack has started.

    python bench/bench_policies.py [--resources 2000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT_DIR = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT_DIR / "tests" / "policies"))  # the corpus builder

from guard_corpus import CHIPS_PER_SKU, GUARD_CONFIG, ROOT, TENANTS, clean_corpus  # noqa: E402

from pulumi_dryrun.analyzer import PolicyPackSession  # noqa: E402
from pulumi_dryrun.resources import ResourceRecord  # noqa: E402

TARGET_S = 3.0


def replicated_stack(size: int) -> list[ResourceRecord]:
    """The clean stack's resources copied until there are ``size`` records (root and providers once)."""
    base = clean_corpus().list()
    shared = [r for r in base if r.urn == ROOT or r.type.startswith("pulumi:providers:")]
    copied = [r for r in base if r not in shared]
    records = list(shared)
    copy = 0
    while len(records) < size:
        suffix = f"-r{copy}"
        rename = {r.urn: r.urn + suffix for r in copied}

        def moved(urn: str | None, rename: dict[str, str] = rename) -> str | None:
            return rename.get(urn, urn) if urn is not None else None

        for record in copied[: size - len(records)]:
            records.append(
                replace(
                    record,
                    urn=rename[record.urn],
                    name=record.name + suffix,
                    parent=moved(record.parent),
                    dependencies=tuple(rename.get(u, u) for u in record.dependencies),
                    property_dependencies={
                        k: tuple(rename.get(u, u) for u in v) for k, v in record.property_dependencies.items()
                    },
                )
            )
        copy += 1
    return records


def process_cpu_s(pid: int) -> float | None:
    """CPU seconds (user + system) a process has used, from /proc (None elsewhere than Linux)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def config(copies: int) -> dict[str, Any]:
    """The corpus' configuration, contract bounds scaled to the replicated stack's chips."""
    contracts = [dict(c) for c in GUARD_CONFIG["contract-limits"]["contracts"]]
    for contract in contracts:
        if "max_chips" in contract:
            contract["max_chips"] *= copies
        if "min_chips" in contract:
            contract["min_chips"] *= copies
    return {
        **GUARD_CONFIG,
        "dedicated-hardware": {"tenants": TENANTS},
        "contract-limits": {"contracts": contracts, "chips_per_sku": CHIPS_PER_SKU},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resources", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    records = replicated_stack(args.resources)
    copies = -(-args.resources // len(clean_corpus().list()))
    started = time.perf_counter()
    session = PolicyPackSession(ROOT_DIR / "policies", project="maiaplan", stack="dev", policy_config=config(copies))
    with session:
        start_s = time.perf_counter() - started
        rounds: list[tuple[float, float]] = []
        cpu: list[tuple[float, float | None]] = []  # (client, pack) CPU seconds per round
        assert session.pid is not None
        for _ in range(args.rounds):
            pack_cpu, client_cpu = process_cpu_s(session.pid), time.process_time()
            t0 = time.perf_counter()
            violations = session.analyze(records)
            t1 = time.perf_counter()
            violations += session.analyze_stack(records)
            t2 = time.perf_counter()
            if violations:
                raise SystemExit(f"the clean stack was flagged: {violations[0].message}")
            rounds.append((t1 - t0, t2 - t1))
            pack_after = process_cpu_s(session.pid)
            cpu.append(
                (
                    time.process_time() - client_cpu,
                    pack_after - pack_cpu if pack_after is not None and pack_cpu is not None else None,
                )
            )
    totals = [a + s for a, s in rounds]
    median = statistics.median(totals)
    print(f"maiaplan-guard, {len(records)} resources, {args.rounds} rounds (pack start {start_s:.2f} s)")
    print(f"  Analyze x{len(records)}: median {statistics.median(a for a, _ in rounds):.2f} s")
    print(f"  AnalyzeStack:      median {statistics.median(s for _, s in rounds):.2f} s")
    print(
        f"  total:             median {median:.2f} s, best {min(totals):.2f} s, worst {max(totals):.2f} s "
        f"(target < {TARGET_S:.0f} s: {'met' if median < TARGET_S else 'MISSED'})"
    )
    pack_rounds = [p for _, p in cpu if p is not None]
    print(
        f"  CPU per round:     client median {statistics.median(c for c, _ in cpu):.2f} s"
        + (f", pack median {statistics.median(pack_rounds):.2f} s" if pack_rounds else "")
        + f" (load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs)"
    )
    return 0 if median < TARGET_S else 1


if __name__ == "__main__":
    sys.exit(main())
