"""Server time per dashboard page: AppTest run time on a given shelfwise home.

    ./dev bench dashboards --home data --repeat 5

For every page: "cold" is one run right after clearing st.cache_data (the first visitor
after a publish; imports are warmed up first, once, untimed), "warm" the median of ``--repeat`` further runs (every later visitor).
Prints a table and writes bench/results/dashboards.json. Target: cold <= 1 s a page.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
APP = str(ROOT / "dashboards" / "app.py")
PAGES = ["kpis", "inventory", "forecast_quality", "alerts", "data_quality"]
TARGET_SECONDS = 1.0


def run_once(page: str) -> float:
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(APP, default_timeout=120)
    if page != "kpis":
        at.run()  # every session starts on the default page (KPIs); time only the switch
        at.switch_page(f"views/{page}.py")
    started = time.perf_counter()
    at.run()
    elapsed = time.perf_counter() - started
    if at.exception:
        raise RuntimeError(f"{page}: {[e.value for e in at.exception]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", default=os.environ.get("SHELFWISE_HOME", "data"))
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    home = Path(args.home).resolve()
    serving = home / "serving" / "serving.duckdb"
    if not serving.exists():
        raise SystemExit(f"no serving snapshot at {serving}: run `shelfwise demo` first")
    os.environ["SHELFWISE_HOME"] = str(home)

    import duckdb
    import streamlit as st

    con = duckdb.connect(str(serving), read_only=True)
    try:
        facts = con.execute("SELECT count(*) FROM marts.kpi_order_line_facts").fetchall()[0][0]
    finally:
        con.close()

    # one untimed pass: imports (streamlit runtime, plotly templates) are a process cost, not
    # a page's
    for page in PAGES:
        run_once(page)
    results = []
    for page in PAGES:
        st.cache_data.clear()
        cold = run_once(page)
        warm = statistics.median(run_once(page) for _ in range(args.repeat))
        results.append({"page": page, "cold_seconds": round(cold, 3),
                        "warm_median_seconds": round(warm, 3),
                        "within_target": cold <= TARGET_SECONDS})

    width = max(len(r["page"]) for r in results)
    print(f"serving snapshot: {serving} ({serving.stat().st_size / 1e6:.1f} MB, "
          f"{facts:,} order lines)")
    print(f"{'page'.ljust(width)}  cold s  warm s (median of {args.repeat})  <= {TARGET_SECONDS} s")
    for r in results:
        print(f"{r['page'].ljust(width)}  {r['cold_seconds']:6.3f}  {r['warm_median_seconds']:6.3f}"
              f"{'':21}{'yes' if r['within_target'] else 'NO'}")
    out = ROOT / "bench" / "results" / "dashboards.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"home": str(home), "order_lines": facts, "repeat": args.repeat,
                               "target_seconds": TARGET_SECONDS, "pages": results}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
