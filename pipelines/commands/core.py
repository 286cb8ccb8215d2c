"""Core commands: demo, generate, ingest, status, ui."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import click

from assets.settings import load_settings
from pipelines.commands.common import run_job


def _settings(ctx: click.Context):
    return load_settings(ctx.obj["home"])


@click.command()
@click.option("--out", type=click.Path(file_okay=False), help="inbox folder [default: <home>/inbox]")
@click.option("--seed", default=42, show_default=True, help="random seed; same seed, same files")
@click.option("--skus", default=500, show_default=True, help="number of SKUs (bundles included)")
@click.option("--warehouses", default=3, show_default=True, help="number of warehouses")
@click.option("--channels", default=6, show_default=True, help="number of sales channels (1-6)")
@click.option("--days", default=730, show_default=True, help="days of history")
@click.option("--end", default="2026-11-22", show_default=True, help="last business day (YYYY-MM-DD)")
@click.pass_context
def generate(ctx, out, seed, skus, warehouses, channels, days, end):
    """Write a deterministic demo inbox, each system in its own export format.

    \b
    Example:
      shelfwise generate --skus 200 --days 120 --seed 7
    """
    from pipelines.generate import generate_demo

    settings = _settings(ctx)
    target = Path(out) if out else settings.inbox
    started = time.perf_counter()
    summary = generate_demo(
        target, seed=seed, skus=skus, warehouses=warehouses, channels=channels, days=days, end=end
    )
    click.echo(summary.format())
    click.echo(f"\nwrote {summary.files:,} files to {target} in {time.perf_counter() - started:.1f} s")


@click.command()
@click.option("--rehash", is_flag=True,
              help="sha256 every file, even one whose name, size and mtime match its ingested version")
@click.option("--accept-correction", "accept_corrections", multiple=True, metavar="FILE",
              help="apply this held correction although it keeps fewer rows than its earlier "
                   "version (path under the inbox, or a file name; repeatable)")
@click.pass_context
def ingest(ctx, rehash, accept_corrections):
    """Land new and corrected inbox files into the warehouse (raw, quarantine, core).

    Files already ingested (same name, same sha256) are skipped; a file whose name, size and
    modification time match its ingested version is not even read (--rehash reads it). A
    corrected file with the same name replaces its earlier version's rows, unless it has no
    good row or loses more than [ingest] correction_max_loss of them (default 50 %): then it
    is held, the earlier rows stay, until --accept-correction FILE. Bad rows go to
    quarantine with file, line and rule; good rows are never lost. The latest export of an
    order (Shopify, Amazon, eBay, Etsy) owns its lines, whatever its file name: a line an
    earlier export had and the later one lacks leaves core (raw keeps it), and the count of
    such lines is printed.

    Exits with status 1 when a file could not be landed (listed with its rule); such a file
    is tried again on the next run.

    \b
    Examples:
      shelfwise ingest
      shelfwise ingest --accept-correction amazon/orders_2026-11.csv
    """
    from pipelines.commands.home import RunOutcome
    from pipelines.summary import (
        failed_files_summary,
        format_run_problems,
        run_problems,
        superseded_summary,
        warehouse_summary,
    )

    settings = _settings(ctx)
    config = {}
    if rehash:
        config["rehash"] = True
    if accept_corrections:
        config["accept_corrections"] = list(accept_corrections)
    ops = {"ingest_inbox": {"config": config}} if config else None
    result = run_job(settings, "ingest", raise_on_error=False, ops=ops)
    click.echo(warehouse_summary(settings.warehouse_path))
    if superseded := superseded_summary(settings.warehouse_path):
        click.echo("\n" + superseded)
    problems = run_problems(result)
    if text := format_run_problems(problems):
        click.echo("\n" + text)
    if not result.success:
        reason = RunOutcome(False, problems, 0).reason
        raise click.ClickException(f"the ingest run failed: {reason}")
    not_landed = failed_files_summary(settings.warehouse_path)
    if not_landed:
        click.echo("\n" + not_landed, err=True)
        ctx.exit(1)


@click.command()
@click.pass_context
def status(ctx):
    """Rows per table in every warehouse layer and quarantined rows by rule."""
    from pipelines.summary import warehouse_summary

    click.echo(warehouse_summary(_settings(ctx).warehouse_path))


@click.command()
@click.option("--seed", default=42, show_default=True)
@click.option("--skus", default=500, show_default=True)
@click.option("--warehouses", default=3, show_default=True)
@click.option("--channels", default=6, show_default=True)
@click.option("--days", default=730, show_default=True)
@click.option("--fresh/--keep", default=True, show_default=True,
              help="--fresh starts from an empty home; --keep re-runs on what is there")
@click.pass_context
def demo(ctx, seed, skus, warehouses, channels, days, fresh):
    """Generate demo data, materialize every asset, print a summary.

    Default scale: 500 SKUs, 3 warehouses, 6 channels, 2 years.
    """
    import shutil

    from assets.decisions.store import FILE_NAME as STORE_FILE
    from assets.decisions.transfer_store import FILE_NAME as TRANSFER_STORE_FILE
    from pipelines.generate import generate_demo

    settings = _settings(ctx)
    started = time.perf_counter()
    if fresh:
        for part in ("inbox", "warehouse", "serving", "outbox"):
            shutil.rmtree(settings.home / part, ignore_errors=True)
        # decisions on the old data's suggestions would otherwise attach to the new ones
        for store in (STORE_FILE, TRANSFER_STORE_FILE):
            for name in (store, f"{store}-wal", f"{store}-shm"):
                (settings.home / name).unlink(missing_ok=True)
    if fresh or not settings.inbox.exists():
        click.echo(f"generating demo data into {settings.inbox} ...")
        generate_demo(settings.inbox, seed=seed, skus=skus, warehouses=warehouses,
                      channels=channels, days=days)
    # the same code path as `shelfwise run` on your own data
    from pipelines.commands.home import run_home

    outcome = run_home(settings)
    click.echo(f"\ndemo finished in {time.perf_counter() - started:.0f} s; home: {settings.home}")
    home = f" --home {settings.home}"
    click.echo("next:\n"
               f"  shelfwise{home} dashboards    the dashboards on http://127.0.0.1:8501 "
               "(KPIs, Replenishment, Inventory, Alerts, ...)\n"
               f"  shelfwise{home} ui            the Dagster UI on http://127.0.0.1:3000\n"
               f"  shelfwise{home} suggestions   what to order now, with reasons")
    if not outcome.success:
        raise click.ClickException(outcome.reason)


@click.command()
@click.option("--port", default=3000, show_default=True)
@click.option("--host", default="127.0.0.1", show_default=True)
@click.pass_context
def ui(ctx, port, host):
    """Open the Dagster UI (assets, runs, schedules, sensors) on this machine only."""
    from pipelines.instance import prepare_dagster_home
    from pipelines.serve import serve

    settings = _settings(ctx)
    prepare_dagster_home(settings)
    cmd = [sys.executable, "-m", "dagster", "dev", "-m", "pipelines.definitions",
           "-h", host, "-p", str(port)]
    click.echo(f"Dagster UI on http://{host}:{port} (Ctrl-C stops it)")
    raise SystemExit(serve(cmd, env=os.environ.copy()))
