"""Benchmark the terminal tables (run on demand: `python3 bench/bench_render.py [ROWS]`).

The ``shard`` table of a 12,000-workload spec has one row per workload and cluster it may use
(about 36,000 rows of 15 columns): rendered piped (no width), and fitted to 80 and 120 columns
(wrapped, then folded into parts).

Figures go to docs/benchmarks.md by hand, with the date and the machine's load.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from maiaplan.render.shardings import SHARDING_HEADERS
from maiaplan.render.tables import table


def main(rows: int) -> None:
    cells = [
        [f"workload-{i:05d}", "az-eastus-maia", "destination", "maia-100", 28, "4×1", 7, 331, "23.2", "-",
         "100,051", "13.7", "provisioned", "7.284", "1.23"]
        for i in range(rows)
    ]  # fmt: skip
    for width in (None, 80, 120):
        started = time.perf_counter()
        text = table(SHARDING_HEADERS, cells, right=(*range(4, 12), 13, 14), wrap=(3, 12, 14), width=width)
        elapsed = time.perf_counter() - started
        print(f"{rows:,} rows, width {width or 'none'}: {elapsed:.2f} s, {len(text.splitlines()):,} lines")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 36_000)
