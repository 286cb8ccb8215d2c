"""Server time per dashboard page: AppTest run time on a given shelfwise home.

    ./dev bench dashboards --home data --repeat 5

For every page: "cold" is the median of ``--repeat`` runs, each right after clearing
st.cache_data and st.cache_resource (the first visitor after a publish: new connection, no
cached results), "warm" the median of ``--repeat`` runs with the caches full (every later
visitor). Each timed run is a rerun of a session already on that page, so AppTest's one-off
set-up (it scans every installed package for Streamlit components, ~0.4 s, which a real
server does once at start) is not counted as page time. Imports are warmed up first, once.
Prints a table and writes bench/results/dashboards.json. Target: cold <= 1 s a page.
``--app`` benchmarks another copy of the app (e.g. the previous version, for before/after).
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
PAGES = ["kpis", "replenishment", "inventory", "forecast_quality", "alerts", "data_quality"]
TARGET_SECONDS = 1.0


def session(app: str, page: str):
    """An AppTest session that has rendered ``page`` once (untimed)."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(app, default_timeout=120)
    at.run()  # every session starts on the default page (KPIs)
    if page != "kpis":
        at.switch_page(f"views/{page}.py")
        at.run()
    return at


def timed_run(at, page: str, *, cold: bool) -> float:
    """Seconds to rerun ``page`` in session ``at``; ``cold`` empties the caches first."""
    import streamlit as st

    if cold:
        st.cache_data.clear()
        st.cache_resource.clear()
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
    parser.add_argument("--app", default=APP, help="the app entry point to run")
    args = parser.parse_args()
    home = Path(args.home).resolve()
    serving = home / "serving" / "serving.duckdb"
    if not serving.exists():
        raise SystemExit(f"no serving snapshot at {serving}: run `shelfwise demo` first")
    os.environ["SHELFWISE_HOME"] = str(home)
    # the app's own `dashboards` package, not this checkout's, when --app names another copy
    sys.path.insert(0, str(Path(args.app).resolve().parent.parent))

    import logging

    import duckdb
    import streamlit  # noqa: F401 - sets up its loggers, quietened below

    # bare mode (no server) warns on every cache clear and cached call: not page output
    # (a filter, because Streamlit resets its loggers' levels when it loads its config)
    for name in ("streamlit.runtime.caching.cache_data_api",
                 "streamlit.runtime.scriptrunner_utils.script_run_context"):
        logging.getLogger(name).addFilter(lambda record: record.levelno >= logging.ERROR)
    con = duckdb.connect(str(serving), read_only=True)
    try:
        facts = con.execute("SELECT count(*) FROM marts.kpi_order_line_facts").fetchall()[0][0]
    finally:
        con.close()

    # one untimed pass: imports (streamlit runtime, plotly templates) are a process cost, not
    # a page's
    views = Path(args.app).resolve().parent / "views"
    sessions = {page: session(args.app, page) for page in PAGES
                if (views / f"{page}.py").exists()}
    results = []
    for page, at in sessions.items():
        cold = statistics.median(timed_run(at, page, cold=True) for _ in range(args.repeat))
        warm = statistics.median(timed_run(at, page, cold=False) for _ in range(args.repeat))
        results.append({"page": page, "cold_median_seconds": round(cold, 3),
                        "warm_median_seconds": round(warm, 3),
                        "within_target": cold <= TARGET_SECONDS})

    width = max(len(r["page"]) for r in results)
    print(f"serving snapshot: {serving} ({serving.stat().st_size / 1e6:.1f} MB, "
          f"{facts:,} order lines)")
    print(f"{'page'.ljust(width)}  cold s  warm s (medians of {args.repeat})  "
          f"cold <= {TARGET_SECONDS} s")
    for r in results:
        print(f"{r['page'].ljust(width)}  {r['cold_median_seconds']:6.3f}  "
              f"{r['warm_median_seconds']:6.3f}{'':21}{'yes' if r['within_target'] else 'NO'}")
    out = ROOT / "bench" / "results" / "dashboards.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"home": str(home), "app": str(Path(args.app).resolve()),
                               "order_lines": facts, "repeat": args.repeat,
                               "target_seconds": TARGET_SECONDS, "pages": results}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
