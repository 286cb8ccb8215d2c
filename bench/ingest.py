"""Ingest benchmark: shelfwise's full and incremental ingest against DuckDB's own read_csv.

    ./dev bench ingest                       # medium set: 10k SKUs, 3 warehouses, 2 years
    ./dev bench ingest --skus 500 --days 120 # a quick look

Steps, each in a fresh process (wall time and peak RSS of that process):
1. generate the demo inbox once (cached under bench/.data/, reused while the flags match);
2. **floor**: DuckDB ``read_csv`` loads the same files into tables, one table per folder of
   same-format files, with the adapter's delimiter and header offset (what a bare load costs);
3. **layers** (a reference, not a target): DuckDB alone does the two layers the design asks
   for, with none of shelfwise's work: each folder's files into a raw table with their file
   name, then a core table with the latest row per key (the adapter's key columns as the
   files name them, the window shelfwise's merge uses). No mapping, contracts, line numbers,
   base currency, customer hashing or manifest. For the generic files the tables hold the
   canonical columns, so it bounds any ingest that keeps raw and core from below; channel
   exports keep all their columns here (wider than shelfwise's tables), an estimate there;
4. **shelfwise full**: ``ingest_inbox`` on an empty warehouse (decode, parse, map, contracts,
   quarantine, raw, merge into core, manifest);
5. **shelfwise daily drop**: a warehouse holding everything but the last day ingests the last
   day's files (every file whose name carries the last date).
Targets (issue 2): full ≤ 1.5 × floor, peak RSS ≤ 4 GiB, daily drop ≤ 10 % of full.
Prints a table and writes bench/results/ingest.json (``--skus N`` other than 10,000:
bench/results/ingest_sN.json).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench._common import REPO, generated_inbox, machine, measure, median_of, table, write_json  # noqa: E402


def _link_tree(src: Path, dst: Path, keep) -> int:
    """Hard-link the files of ``src`` that ``keep(rel)`` accepts into ``dst``; count them."""
    n = 0
    for path in sorted(src.rglob("*")):
        if path.is_file() and keep(path.relative_to(src)):
            target = dst / path.relative_to(src)
            target.parent.mkdir(parents=True, exist_ok=True)
            os.link(path, target)
            n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--skus", type=int, default=10_000)
    ap.add_argument("--warehouses", type=int, default=3)
    ap.add_argument("--channels", type=int, default=6)
    ap.add_argument("--days", type=int, default=730)
    ap.add_argument("--end", default="2026-11-22")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--repeat", type=int, default=1, help="runs per step; medians are reported")
    ap.add_argument("--data", type=Path, default=REPO / "bench" / ".data")
    args = ap.parse_args()

    tag, root, inbox = generated_inbox(args)  # the same cache for every benchmark
    files = [p for p in inbox.rglob("*") if p.is_file()]
    size_mib = sum(p.stat().st_size for p in files) / 2**20

    # the daily drop: every file whose name carries the last day
    last_day = args.end
    before = root / "inbox_before_last_day"
    if not before.exists():
        _link_tree(inbox, before, lambda rel: last_day not in rel.name)
    drop_files = sum(1 for p in files if last_day in p.name)

    work = root / "work"
    floor_runs, layers_runs, full_runs, drop_runs = [], [], [], []
    for i in range(args.repeat):
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        floor_runs.append(measure(_DUCKDB.format(inbox=str(inbox), db=str(work / "floor.duckdb"), layers=False),
                                  label=f"floor read_csv #{i + 1}"))
        layers_runs.append(measure(_DUCKDB.format(inbox=str(inbox), db=str(work / "layers.duckdb"), layers=True),
                                   label=f"DuckDB raw + core #{i + 1}"))
        full_runs.append(measure(_INGEST.format(inbox=str(inbox), home=str(work / "full")),
                                 label=f"shelfwise full #{i + 1}"))
        # prepare the day-before warehouse (not timed), then time the last day's drop
        measure(_INGEST.format(inbox=str(before), home=str(work / "daily")), label="prepare day-before")
        shutil.rmtree(work / "daily" / "inbox", ignore_errors=True)
        drop_runs.append(measure(_INGEST.format(inbox=str(inbox), home=str(work / "daily")),
                                 label=f"shelfwise daily drop #{i + 1}"))
    counts = measure(_COUNT.format(home=str(work / "full")), label="count rows")
    order_lines = int((work / "full" / "order_lines.count").read_text())

    floor_s = median_of(floor_runs, "wall_s")
    full_s = median_of(full_runs, "wall_s")
    drop_s = median_of(drop_runs, "wall_s")
    layers_s = median_of(layers_runs, "wall_s")
    rows = [
        ["DuckDB read_csv (floor)", floor_s, median_of(floor_runs, "peak_rss_mib"), 1.0, "-"],
        ["DuckDB raw + core, nothing else (reference)", layers_s,
         median_of(layers_runs, "peak_rss_mib"), layers_s / floor_s, "-"],
        ["shelfwise full ingest", full_s, median_of(full_runs, "peak_rss_mib"), full_s / floor_s, "<= 1.5x floor, <= 4096 MiB"],
        [f"shelfwise daily drop ({drop_files} files)", drop_s, median_of(drop_runs, "peak_rss_mib"),
         drop_s / floor_s, f"<= 10% of full: {drop_s / full_s:.1%}"],
    ]
    print(f"\ninbox: {len(files):,} files, {size_mib:,.0f} MiB, {order_lines:,} order lines in core; "
          f"median of {args.repeat} run(s)\n")
    print(table(["step", "wall s", "peak RSS MiB", "x floor", "target"], rows))
    payload = {
        "machine": machine(),
        "params": vars(args) | {"data": str(args.data)},
        "inbox": {"files": len(files), "mib": size_mib, "order_lines": order_lines,
                  "daily_drop_files": drop_files},
        "floor": floor_runs, "layers": layers_runs, "full": full_runs, "daily_drop": drop_runs,
        "summary": {
            "floor_s": floor_s, "layers_s": layers_s, "full_s": full_s, "daily_drop_s": drop_s,
            "layers_vs_floor": layers_s / floor_s, "full_vs_layers": full_s / layers_s,
            "full_vs_floor": full_s / floor_s, "drop_vs_full": drop_s / full_s,
            "full_peak_rss_mib": median_of(full_runs, "peak_rss_mib"),
            "targets_met": {
                "full_le_1_5x_floor": full_s <= 1.5 * floor_s,
                "rss_le_4gib": median_of(full_runs, "peak_rss_mib") <= 4096,
                "drop_le_10pct": drop_s <= 0.10 * full_s,
            },
        },
        "counting": counts,
    }
    # the medium set is bench/results/ingest.json; other scales keep their own file
    name = "ingest" if args.skus == 10_000 else f"ingest_s{args.skus}"
    print(f"\nwrote {write_json(name, payload)}")


# DuckDB alone: one table per folder of same-format files, with the adapter's delimiter/offset.
# layers=True is the reference of step 3: each table also keeps its rows' file name (raw), and
# a second table holds the latest row per key (core). Keys as each channel's export names them
# (docs/formats.md); generic files use the entity's key and version columns. The order mirrors
# merge._insert_winners: version, then file name.
_DUCKDB = r"""
from collections import defaultdict
from pathlib import Path, PurePosixPath
import duckdb
from assets.ingest.adapters import ADAPTERS
from assets.ingest.engine import discover, pick_adapter
from assets.model import ENTITIES
layers = {layers!r}
CHANNEL_KEYS = {{
    "shopify_orders": (["Name", "Lineitem sku"], None),
    "amazon_orders": (["amazon-order-id", "sku"], "last-updated-date"),
    "ebay_orders": (["Order Number", "Item Number"], None),
    "etsy_orders": (["Order ID", "Transaction ID"], None),
    "square_item_sales": (["Transaction ID", "SKU"], None),
    "b2b_purchase_orders": (["PO Number", "Line Number"], "Status Date"),
    "online_retail_invoices": (["Invoice", "StockCode"], None),
}}
inbox = Path({inbox!r})
groups = defaultdict(list)
for path in discover(inbox):
    rel = PurePosixPath(path.relative_to(inbox).as_posix())
    adapter = pick_adapter(path, rel, ADAPTERS)
    if adapter is not None:
        groups[(str(rel.parent), adapter.name, path.suffix)].append(str(path))
con = duckdb.connect({db!r})
filename = ", filename=true" if layers else ""
for i, ((folder, name, suffix), paths) in enumerate(sorted(groups.items())):
    adapter = next(a for a in ADAPTERS if a.name == name)
    if suffix == ".parquet":
        con.execute(f"CREATE TABLE t{{i}} AS SELECT * FROM read_parquet(?{{filename}})", [paths])
    else:
        con.execute(
            f"CREATE TABLE t{{i}} AS SELECT * FROM read_csv(?, delim=?, skip=?, header=true, "
            f"ignore_errors=true, null_padding=true{{filename}})",
            [paths, adapter.separator, adapter.skip_rows],
        )
    if not layers:
        continue
    columns = {{c for (c, *_) in con.execute(f"DESCRIBE t{{i}}").fetchall()}}
    entity = ENTITIES[adapter.entity]
    keys, version = CHANNEL_KEYS.get(name, (list(entity.key), entity.version_by))
    keys = [k for k in keys if k in columns]
    order = ([f'"{{version}}" DESC NULLS LAST'] if version in columns else []) + ["filename DESC"]
    partition = ", ".join('"' + k + '"' for k in keys)
    latest = (f"QUALIFY row_number() OVER (PARTITION BY {{partition}} "
              f"ORDER BY {{', '.join(order)}}) = 1") if keys else ""
    con.execute(f"CREATE TABLE c{{i}} AS SELECT * FROM t{{i}} {{latest}}")
con.close()
"""

_INGEST = r"""
from pathlib import Path
from assets.settings import load_settings
from assets.warehouse import connect
from assets.ingest.engine import ingest_inbox
settings = load_settings({home!r})
with connect(settings.warehouse_path) as con:
    report = ingest_inbox(con, settings, Path({inbox!r}))
"""

_COUNT = r"""
from pathlib import Path
from assets.settings import load_settings
from assets.warehouse import connect
settings = load_settings({home!r})
with connect(settings.warehouse_path, read_only=True) as con:
    n = con.execute("SELECT count(*) FROM core.order_lines").fetchone()[0]
Path({home!r}, "order_lines.count").write_text(str(n))
"""

if __name__ == "__main__":
    main()
