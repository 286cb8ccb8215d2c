"""Refactoring guard: a fingerprint of every core and marts table of a demo home.

    python bench/table_checksums.py --out before.json            # shelfwise demo at the default scale
    python bench/table_checksums.py --skus 60 --days 120 --out after.json --compare before.json
    python bench/table_checksums.py --home DIR --out x.json       # fingerprint an existing home

A change that must not change behaviour (issue #18: moving SQL into files, checks beside their
assets) leaves every table's (rows, order-independent hash) identical. The fingerprint is the
one the orchestration tests compare a re-run with a clean run by
(tests/orchestration/orchestration_kit.py: doubles rounded, history columns left out), less
what differs between two homes: lineage batch ids, alert evaluation times, the delivery log. Exits 1 and names the tables that differ when ``--compare`` finds any.
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import tempfile
from pathlib import Path

import duckdb

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests" / "orchestration"))

from orchestration_kit import warehouse_checksums  # noqa: E402

# what differs between two clean runs of one demo in two homes, not what the data says
SKIP_TABLES = {"marts.alert_delivery_log": "a log: when, where and how long each delivery took"}
SKIP_COLUMNS = {
    "*": {"batch_id"},  # lineage: a new id per ingest run
    "marts.alert_status": {"opened_at", "last_seen_at"},  # when the run evaluated the alert
}


def fingerprint(warehouse: Path) -> dict[str, list]:
    """Per table: [rows, hash of the rows without their doubles, {double column: its sum}].

    Doubles are compared by their sums, within a relative 1e-9: rounding each value cannot be
    made stable (two runs of one demo wrote 88.9010595 and 88.90105949999999, a parallel SUM's
    last bit, on either side of any rounding step)."""
    hashed = warehouse_checksums(warehouse, skip_tables=SKIP_TABLES, skip_columns=SKIP_COLUMNS,
                                 doubles=False)
    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        doubles = con.execute(
            """SELECT table_schema || '.' || table_name, list(column_name ORDER BY column_name)
               FROM information_schema.columns
               WHERE table_schema IN ('core', 'marts') AND data_type IN ('DOUBLE', 'FLOAT', 'REAL')
               GROUP BY 1""").fetchall()
        sums = {table: {} for table in hashed}
        for table, columns in doubles:
            if table not in hashed:
                continue
            keep = [c for c in columns if c not in SKIP_COLUMNS.get(table, ())]
            # NaN apart: it would make the whole sum NaN and hide every other value
            names = [n for c in keep for n in (c, f"{c} (NaN count)")]
            values = con.execute("SELECT " + ", ".join(
                f'sum("{c}") FILTER (WHERE NOT isnan("{c}")), count(*) FILTER (WHERE isnan("{c}"))'
                for c in keep) + f" FROM {table}").fetchone() if keep else ()
            sums[table] = {c: (None if v is None else float(v)) for c, v in zip(names, values)}
    finally:
        con.close()
    return {t: [int(rows), str(digest), sums[t]] for t, (rows, digest) in hashed.items()}


def same(before: list | None, after: list | None) -> bool:
    if before is None or after is None or before[:2] != after[:2] or before[2].keys() != after[2].keys():
        return before == after
    return all(_close(before[2][c], after[2][c]) for c in before[2])


def _close(b: float | None, a: float | None) -> bool:
    if b is None or a is None:
        return b is a
    return math.isclose(b, a, rel_tol=1e-9, abs_tol=1e-6)


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
            sums = fingerprint(Path(tmp) / "home" / "warehouse" / "shelfwise.duckdb")
    else:
        sums = fingerprint(args.home / "warehouse" / "shelfwise.duckdb")
    args.out.write_text(json.dumps(sums, indent=1, sort_keys=True) + "\n")
    print(f"{len(sums)} tables fingerprinted into {args.out}")
    if args.compare is None:
        return 0
    before = json.loads(args.compare.read_text())
    differ = sorted(t for t in before.keys() | sums.keys() if not same(before.get(t), sums.get(t)))
    for table in differ:
        print(f"DIFFERS {table}: before {before.get(table)}  after {sums.get(table)}")
    print("identical" if not differ else f"{len(differ)} of {len(sums)} tables differ")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
