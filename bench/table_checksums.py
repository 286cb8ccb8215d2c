"""Refactoring guard: a fingerprint of every core and marts table of a demo home.

    python bench/table_checksums.py --out before.json            # shelfwise demo at the default scale
    python bench/table_checksums.py --skus 60 --days 120 --out after.json --compare before.json
    python bench/table_checksums.py --home DIR --out x.json       # fingerprint an existing home

A change that must not change behaviour (issue #18: moving SQL into files, checks beside their
assets) leaves every table's (rows, order-independent hash) identical. The fingerprint is the
one the orchestration tests compare a re-run with a clean run by
(tests/orchestration/orchestration_kit.py: doubles rounded to 9 significant digits, history
columns left out). Exits 1 and names the tables that differ when ``--compare`` finds any.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "orchestration"))

from orchestration_kit import warehouse_checksums  # noqa: E402


def demo_home(home: Path, skus: int, days: int) -> None:
    subprocess.run([sys.executable, "-m", "pipelines.cli", "--home", str(home), "demo",
                    "--skus", str(skus), "--days", str(days)], check=True, cwd=REPO,
                   stdout=subprocess.DEVNULL)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="fingerprint this home instead of a new demo")
    parser.add_argument("--skus", type=int, default=500)
    parser.add_argument("--days", type=int, default=730)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--compare", type=Path, help="an earlier --out file to compare with")
    args = parser.parse_args()
    if args.home is None:
        with tempfile.TemporaryDirectory(prefix="shelfwise-checksums-") as tmp:
            demo_home(Path(tmp) / "home", args.skus, args.days)
            sums = warehouse_checksums(Path(tmp) / "home" / "warehouse" / "shelfwise.duckdb")
    else:
        sums = warehouse_checksums(args.home / "warehouse" / "shelfwise.duckdb")
    sums = {table: [int(rows), str(digest)] for table, (rows, digest) in sums.items()}
    args.out.write_text(json.dumps(sums, indent=1, sort_keys=True) + "\n")
    print(f"{len(sums)} tables fingerprinted into {args.out}")
    if args.compare is None:
        return 0
    before = json.loads(args.compare.read_text())
    differ = sorted(t for t in before.keys() | sums.keys() if before.get(t) != sums.get(t))
    for table in differ:
        print(f"DIFFERS {table}: before {before.get(table)}  after {sums.get(table)}")
    print("identical" if not differ else f"{len(differ)} of {len(sums)} tables differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
