"""Dashboard speed: time to first content in a real browser, and server time per page.

    ./dev bench dashboards --home data --repeat 5 --loads 9

**First content in the browser** (the number a manager feels): the real `streamlit run` on a
free port, Debian's Chromium driven by Playwright. First content is the page's first headline
number on screen: the first metric (``stMetric``) whose value has text and whose box is
inside the viewport (on KPIs, one of its first row: "Orders" in nearly every load; a blank
header or a spinner does not count),
measured in the page itself from the navigation's start (``performance.now()``) by a
MutationObserver, so no polling delay is counted; the label it saw is reported. Two kinds of
load: a *new visitor* (a new browser context: empty HTTP cache, so Streamlit's JavaScript is
downloaded and compiled again, a new session) and a *returning visitor* (a new tab and
session in a context that loaded the app before: its JavaScript comes from the cache). Per
target, the first load after its server started (the first visitor after a restart: imports,
the snapshot's first open, every query cold), then ``--loads`` loads of each kind,
**interleaved** across the targets (round robin) so that a machine whose load swings
affects every target alike. Targets, all in the same run and browser: a bare Streamlit app
that draws one metric and nothing else (the cost of Streamlit itself: its JavaScript, the
websocket, one script run), the KPIs and Data quality pages, and with ``--before-app`` the
KPIs page of another copy of the app (before/after). The load average is recorded before
and after. Target: KPIs under 1 s to first content.

**Server time** (AppTest, ``--repeat``): for every page, "cold" is the median of runs each
right after clearing st.cache_data and st.cache_resource (the first visitor after a publish:
new connection, no cached results), "warm" the median with the caches full. Each timed run
is a rerun of a session already on that page, so AppTest's one-off set-up (it scans every
installed package for Streamlit components, ~0.4 s, which a real server does once at start)
is not counted. Target: cold <= 1 s a page. ``--app`` benchmarks another copy of the app;
``--no-apptest`` skips this part.

``--screenshots DIR`` also saves a whole-page screenshot of every page (Streamlit's inner
scroll container included) from the browser. Prints tables and writes
bench/results/dashboards.json.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench._common import machine  # noqa: E402
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


CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# url path of each page (st.Page's default: the file name); "" is the default page, KPIs
URL_PATHS = {"kpis": "", "replenishment": "replenishment", "inventory": "inventory",
             "forecast_quality": "forecast_quality", "alerts": "alerts",
             "data_quality": "data_quality"}
# a bare Streamlit app: what any page costs before its own queries and charts
SHELL_APP = """import streamlit as st
st.title("shell")
st.metric("Baseline", "1")
"""
# set before the page's scripts run: when the first headline number is on screen (a metric
# value with text, its box inside the viewport), and that metric's label
FIRST_METRIC = """
window.__firstMetric = null;
window.__firstMetricLabel = null;
new MutationObserver((_, observer) => {
  for (const metric of document.querySelectorAll("[data-testid='stMetric']")) {
    const value = metric.querySelector("[data-testid='stMetricValue']");
    if (!value || !value.textContent.trim()) { continue; }
    const box = value.getBoundingClientRect();
    if (box.width > 0 && box.height > 0 && box.top < window.innerHeight) {
      window.__firstMetric = performance.now();
      const label = metric.querySelector("[data-testid='stMetricLabel']");
      window.__firstMetricLabel = label ? label.textContent.trim() : "";
      observer.disconnect();
      return;
    }
  }
}).observe(document, {childList: true, subtree: true, characterData: true});
"""
# Streamlit scrolls inside its main element (stMain), not the document: the page's height is
# the bottom of its block container, scrolled or not. (Not stMain's scrollHeight: it grows
# with the viewport, so enlarging the viewport to it never ends.)
CONTENT_HEIGHT = """() => {
    const main = document.querySelector("[data-testid='stMain']");
    const block = document.querySelector("[data-testid='stMainBlockContainer']");
    if (!main || !block) { return document.documentElement.scrollHeight; }
    return Math.ceil(block.getBoundingClientRect().bottom + main.scrollTop);
}"""


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(home: Path, app: str | Path, *, timeout: float = 60):
    """`streamlit run app` on ``home`` (the flags of `shelfwise dashboards`) on a free port;
    yields its URL, stops it after."""
    import subprocess
    import urllib.request

    from pipelines.commands.dashboards import APP as SHELFWISE_APP
    from pipelines.commands.dashboards import streamlit_command

    port = free_port()
    command = streamlit_command(port, "127.0.0.1")
    command[command.index(str(SHELFWISE_APP))] = str(app)
    proc = subprocess.Popen(command, env={**os.environ, "SHELFWISE_HOME": str(home)},
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError("streamlit did not start: "
                                   + proc.stdout.read().decode()[-2000:]) from None
            time.sleep(0.2)
    try:
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()


def launch(playwright):
    """Debian's Chromium, headless (no browser download)."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)


def settle(page, *, timeout_s: float = 120) -> None:
    """Wait until the page's script has finished and everything is drawn: no "running"
    indicator, no skeleton placeholder, and the content height unchanged for a second."""
    deadline = time.monotonic() + timeout_s
    last, steady = -1, 0
    while time.monotonic() < deadline:
        busy = page.locator("[data-testid='stStatusWidgetRunningIcon'], "
                            "[data-testid='stSkeleton'], [data-testid='stAppSkeleton']").count()
        height = page.evaluate(CONTENT_HEIGHT)
        steady = steady + 1 if not busy and height == last else 0
        if steady >= 2:
            return
        last = height
        page.wait_for_timeout(500)
    raise TimeoutError(f"{page.url} did not settle in {timeout_s:.0f} s")


def whole_page(page, shot: Path, *, width: int = 1280) -> None:
    """Screenshot all of ``page``: the viewport becomes as tall as its content (Streamlit
    scrolls inside its main section, so ``full_page`` alone captures the first screen only);
    glide tables draw only once they are in the viewport, so the page settles again after."""
    settle(page)
    for _ in range(3):
        height = page.evaluate(CONTENT_HEIGHT)
        if abs(page.viewport_size["height"] - height) <= 40:
            break
        page.set_viewport_size({"width": width, "height": min(height + 20, 30_000)})
        settle(page)
    page.wait_for_timeout(500)
    page.screenshot(path=str(shot), full_page=True)


VIEWPORT = {"width": 1280, "height": 900}
# the script run of the page is over: Streamlit's "running" indicator is gone
RUN_OVER = "!document.querySelector(\"[data-testid='stStatusWidgetRunningIcon']\")"


def first_content(context, url: str, *, timeout_ms: int = 60_000) -> tuple[float, str]:
    """One load of ``url`` in a new tab (a new session) of ``context``: (ms to the first
    headline number on screen, its label). The tab stays open until the page's script run is
    over, so the next load finds the server idle, as one visitor does: a tab closed at the
    first number would leave its session drawing the rest of the page while the next load
    is timed."""
    page = context.new_page()
    try:
        page.add_init_script(FIRST_METRIC)
        page.goto(url, wait_until="commit")
        page.wait_for_function("window.__firstMetric !== null", timeout=timeout_ms)
        seen = page.evaluate("[window.__firstMetric, window.__firstMetricLabel]")
        for _ in range(2):  # over twice, 0.5 s apart: a rerun may start right after a run
            page.wait_for_function(RUN_OVER, timeout=timeout_ms * 2, polling=250)
            page.wait_for_timeout(500)
        return seen
    finally:
        page.close()


def new_visitor(browser, url: str) -> tuple[float, str]:
    """A load in a new browser context: empty cache, Streamlit's JavaScript fetched again."""
    context = browser.new_context(viewport=VIEWPORT)
    try:
        return first_content(context, url)
    finally:
        context.close()


def summary(times: list[float]) -> dict:
    return {"median_ms": round(statistics.median(times)), "min_ms": round(min(times)),
            "max_ms": round(max(times)), "loads": len(times)}


def browser_first_content(home: Path, app: str, loads: int, shots: Path | None,
                          before_app: str | None = None) -> dict:
    """First-content times of a bare Streamlit app, the KPIs and Data quality pages (and the
    KPIs page of ``before_app``), one server each, in the same browser, loads interleaved."""
    import tempfile

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp, sync_playwright() as p, \
            contextlib.ExitStack() as servers:
        shell = Path(tmp) / "shell.py"
        shell.write_text(SHELL_APP)
        targets = [("streamlit shell (baseline)", shell, ""),
                   ("kpis", app, URL_PATHS["kpis"]),
                   ("data_quality", app, URL_PATHS["data_quality"])]
        if before_app:
            targets.append(("kpis (before)", before_app, URL_PATHS["kpis"]))
        # one server per app: the two pages of `app` share one, as visitors of one server do
        urls = {}
        for script in dict.fromkeys(str(t[1]) for t in targets):
            urls[script] = servers.enter_context(streamlit_server(home, script))
        browser = launch(p)
        try:
            results = {name: {"label": None, "new": [], "returning": []}
                       for name, _, _ in targets}
            for name, script, path in targets:  # the first visitor after each server's start
                first, label = new_visitor(browser, f"{urls[str(script)]}/{path}")
                results[name].update(first_load_ms=round(first), label=label)
            returning = {name: browser.new_context(viewport=VIEWPORT) for name, _, _ in targets}
            for name, script, path in targets:  # fill each returning visitor's cache once
                first_content(returning[name], f"{urls[str(script)]}/{path}")
            for _ in range(loads):
                for name, script, path in targets:
                    url = f"{urls[str(script)]}/{path}"
                    results[name]["new"].append(new_visitor(browser, url)[0])
                    results[name]["returning"].append(first_content(returning[name], url)[0])
            for context in returning.values():
                context.close()
            if shots:
                save_screenshots(browser, urls[str(app)], shots)
        finally:
            browser.close()
    out = {}
    for name, r in results.items():
        out[name] = {"first_metric": r["label"], "first_load_ms": r["first_load_ms"],
                     "new_visitor": summary(r["new"]), "returning_visitor": summary(r["returning"])}
        print(f"  {name}: first load {r['first_load_ms']} ms; median of {loads}: new visitor "
              f"{out[name]['new_visitor']['median_ms']} ms, returning "
              f"{out[name]['returning_visitor']['median_ms']} ms ({r['label']!r})",
              file=sys.stderr)
    return out


def save_screenshots(browser, url: str, shots: Path) -> None:
    """A whole-page screenshot of every page into ``shots``."""
    shots.mkdir(parents=True, exist_ok=True)
    page = browser.new_page(viewport=VIEWPORT)
    try:
        for name, path in URL_PATHS.items():
            page.set_viewport_size(VIEWPORT)
            page.goto(f"{url}/{path}")
            page.locator("[data-testid='stMain']").wait_for(timeout=60_000)
            whole_page(page, shots / f"{name}.png")
    finally:
        page.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--home", default=os.environ.get("SHELFWISE_HOME", "data"))
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--app", default=APP, help="the app entry point to run")
    parser.add_argument("--before-app", help="another copy's app.py: its KPIs page is measured "
                                             "beside --app's in the browser (before/after)")
    parser.add_argument("--loads", type=int, default=9,
                        help="browser loads per page after the first (median)")
    parser.add_argument("--no-apptest", action="store_true", help="skip the server times")
    parser.add_argument("--no-browser", action="store_true", help="skip the browser times")
    parser.add_argument("--screenshots", type=Path, help="save whole-page screenshots here")
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

    print(f"serving snapshot: {serving} ({serving.stat().st_size / 1e6:.1f} MB, "
          f"{facts:,} order lines)")
    browser, load_before = {}, os.getloadavg()
    if not args.no_browser:
        browser = browser_first_content(home, args.app, args.loads, args.screenshots,
                                        args.before_app)
        width = max(len(name) for name in browser)
        print(f"first headline number on screen, Chromium, ms; load average "
              f"{load_before[0]:.1f} before, {os.getloadavg()[0]:.1f} after")
        print(f"{''.ljust(width)}  first load  new visitor  returning  (medians of {args.loads})")
        for name, r in browser.items():
            print(f"{name.ljust(width)}  {r['first_load_ms']:10,}  "
                  f"{r['new_visitor']['median_ms']:11,}  {r['returning_visitor']['median_ms']:9,}")
        shell = browser["streamlit shell (baseline)"]
        for kind in ("new_visitor", "returning_visitor"):
            kpis = browser["kpis"][kind]["median_ms"]
            met = "met" if kpis < TARGET_SECONDS * 1000 else "MISSED"
            print(f"KPIs, {kind.replace('_', ' ')}: {kpis / 1000:.2f} s, "
                  f"{kpis / shell[kind]['median_ms']:.2f}x the bare app "
                  f"(target < {TARGET_SECONDS} s: {met})")

    results = [] if args.no_apptest else server_times(args.app, args.repeat)
    if results:
        width = max(len(r["page"]) for r in results)
        print(f"{'page'.ljust(width)}  cold s  warm s (medians of {args.repeat})  "
              f"cold <= {TARGET_SECONDS} s")
        for r in results:
            print(f"{r['page'].ljust(width)}  {r['cold_median_seconds']:6.3f}  "
                  f"{r['warm_median_seconds']:6.3f}{'':21}"
                  f"{'yes' if r['within_target'] else 'NO'}")
    out = ROOT / "bench" / "results" / "dashboards.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        "home": str(home), "app": str(Path(args.app).resolve()), "before_app": args.before_app,
        "order_lines": facts,
        "snapshot_mb": round(serving.stat().st_size / 1e6, 1), "machine": machine(),
        "load_average_before": load_before, "load_average_after": os.getloadavg(),
        "target_seconds": TARGET_SECONDS,
        "browser_first_content": browser, "repeat": args.repeat, "pages": results,
    }, indent=2) + "\n")
    print(f"wrote {out}")


def server_times(app: str, repeat: int) -> list[dict]:
    """Cold and warm AppTest medians per page (see the module's docstring)."""
    # one untimed pass: imports (streamlit runtime, plotly templates) are a process cost, not
    # a page's
    views = Path(app).resolve().parent / "views"
    sessions = {page: session(app, page) for page in PAGES
                if (views / f"{page}.py").exists()}
    results = []
    for page, at in sessions.items():
        cold = statistics.median(timed_run(at, page, cold=True) for _ in range(repeat))
        warm = statistics.median(timed_run(at, page, cold=False) for _ in range(repeat))
        results.append({"page": page, "cold_median_seconds": round(cold, 3),
                        "warm_median_seconds": round(warm, 3),
                        "within_target": cold <= TARGET_SECONDS})
    return results


if __name__ == "__main__":
    main()
