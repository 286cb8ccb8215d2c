"""Benchmark: how long the command line takes to answer ``--help``.

    python bench/cli.py            # 5 runs of each, median wall time per command line

Each run is a fresh ``shelfwise`` process (interpreter start included, as a user waits for
it); the bare interpreter (``python -c pass``) is measured too, as the floor. Writes
bench/results/cli.json. Target: ``shelfwise --help`` and every command's ``--help`` under
0.5 s on an idle 2-core machine (tests/cli/test_cli_startup.py checks the cause: no heavy
library is imported to print help).
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import machine, table, write_json  # noqa: E402

RUNS = 5
SHELFWISE = Path(sys.executable).with_name("shelfwise")
COMMANDS = [
    ("python -c pass (floor)", [sys.executable, "-c", "pass"]),
    ("shelfwise --help", [str(SHELFWISE), "--help"]),
    ("shelfwise suggestions --help", [str(SHELFWISE), "suggestions", "--help"]),
    ("shelfwise restock --help", [str(SHELFWISE), "restock", "--help"]),
]


def wall(argv: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> None:
    rows = []
    for label, argv in COMMANDS:
        times = [wall(argv) for _ in range(RUNS)]
        rows.append([label, statistics.median(times), min(times), max(times)])
    print(table(["command", "median s", "min s", "max s"], rows))
    path = write_json("cli", {"machine": machine(), "runs": RUNS, "results": [
        {"command": r[0], "median_s": r[1], "min_s": r[2], "max_s": r[3]} for r in rows]})
    print(f"\nwritten to {path}")


if __name__ == "__main__":
    main()
