"""Dashboards command: start the Streamlit app on the home's serving snapshot."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from assets.settings import load_settings
from pipelines.serve import serve

APP = Path(__file__).resolve().parents[2] / "dashboards" / "app.py"


def streamlit_command(port: int, host: str) -> list[str]:
    """The `streamlit run` command line: headless, no usage statistics, no file watching."""
    return [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.port", str(port),
        "--server.address", host,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        # the app's code does not change under a running server; data changes are picked up
        # through the snapshot's mtime, so no inotify watches are needed
        "--server.fileWatcherType", "none",
        # a local tool for one team: no "Deploy" button in the toolbar
        "--client.toolbarMode", "viewer",
        # no page relies on "magic" (bare expressions drawn); it runs ast.parse on every page
        # run, which CPython 3.11 can break when another thread compiles at the same moment
        # ("AST constructor recursion depth mismatch", seen once in the page tests)
        "--runner.magicEnabled", "false",
    ]


@click.command()
@click.option("--port", default=8501, show_default=True, help="TCP port to listen on")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="address to bind; the default keeps the dashboards on this machine")
@click.pass_context
def dashboards(ctx, port, host):
    """Open the dashboards (KPIs, inventory, replenishment, forecast quality, alerts, data quality).

    They read <home>/serving/serving.duckdb, the snapshot the publish step replaces after
    every run, never the warehouse: a running pipeline never breaks a page.

    \b
    Example:
      shelfwise demo --skus 100 --days 120
      shelfwise dashboards --port 8501
    """
    settings = load_settings(ctx.obj["home"])
    if not settings.serving_path.exists():
        click.echo(f"note: no serving snapshot at {settings.serving_path} yet; run `shelfwise "
                   "demo` (or materialize publish_serving_snapshot) and reload the page.")
    env = os.environ.copy()
    env["SHELFWISE_HOME"] = str(settings.home)
    click.echo(f"dashboards on http://{host}:{port} (Ctrl-C stops them)")
    raise SystemExit(serve(streamlit_command(port, host), env=env))
