"""Inventory commands: ats, reconcile, feeds."""

from __future__ import annotations

from pathlib import Path

import click

from assets.settings import load_settings


def _settings(ctx: click.Context):
    return load_settings(ctx.obj["home"])


def _require_tables(con, *tables: str, fix: str) -> None:
    present = {
        f"{s}.{t}" for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables()").fetchall()
    }
    missing = [t for t in tables if t not in present]
    if missing:
        raise click.ClickException(f"{', '.join(missing)} not built yet: {fix}")


def _open_read_only(settings):
    from assets.warehouse import connect

    if not Path(settings.warehouse_path).exists():
        raise click.ClickException(
            f"no warehouse at {settings.warehouse_path}: run `shelfwise ingest` first")
    return connect(settings.warehouse_path, read_only=True, wait_seconds=10)


@click.command()
@click.option("--channel", help="only this channel id")
@click.option("--sku", help="only this SKU (a bundle SKU shows the bundle's ATS)")
@click.option("--location", help="per location instead of per channel: only this location id")
@click.option("--limit", default=50, show_default=True, help="rows to print (0: all)")
@click.pass_context
def ats(ctx, channel, sku, location, limit):
    """Available-to-sell per channel (or per location with --location), as last computed.

    ATS = on hand − allocated − reserved (per location, never below 0); per channel the sum
    over the locations serving it minus the channel's safety buffer. Reads the warehouse
    read-only; refresh with `shelfwise reconcile` or the `inventory` job.

    \b
    Examples:
      shelfwise ats --sku SHIRT-M
      shelfwise ats --channel etsy --limit 20
      shelfwise ats --location WH1 --sku SHIRT-M
    """
    from pipelines.summary import format_table

    settings = _settings(ctx)
    with _open_read_only(settings) as con:
        if location:
            _require_tables(con, "marts.ats_by_sku_location",
                            fix="run `shelfwise demo` or the `inventory` job")
            query = """SELECT as_of, location_id, sku, is_bundle, on_hand_units, allocated_units,
                              reserved_units, ats_units
                       FROM marts.ats_by_sku_location
                       WHERE location_id = ? AND (? IS NULL OR sku = ?)
                       ORDER BY sku LIMIT ?"""
            params = [location, sku, sku, limit or None]
            headers = ["as of", "location", "sku", "bundle", "on hand", "allocated", "reserved", "ATS"]
        else:
            _require_tables(con, "marts.ats_by_sku_channel",
                            fix="run `shelfwise demo` or the `inventory` job")
            query = """SELECT as_of, channel_id, sku, is_bundle, location_ats_units,
                              safety_buffer_units, ats_units
                       FROM marts.ats_by_sku_channel
                       WHERE (? IS NULL OR channel_id = ?) AND (? IS NULL OR sku = ?)
                       ORDER BY sku, channel_id LIMIT ?"""
            params = [channel, channel, sku, sku, limit or None]
            headers = ["as of", "channel", "sku", "bundle", "locations ATS", "buffer", "ATS"]
        rows = con.execute(query, params).fetchall()
    if not rows:
        raise click.ClickException("no ATS rows match: check the channel, SKU or location id")
    click.echo(format_table(headers, [
        (str(r[0]), *r[1:3], "yes" if r[3] else "", *r[4:]) for r in rows
    ]))


@click.command()
@click.option("--limit", default=20, show_default=True, help="discrepancies to print")
@click.option("--all-days", is_flag=True, help="discrepancies of every snapshot day, not the latest")
@click.pass_context
def reconcile(ctx, limit, all_days):
    """Rebuild the movement ledger, reconcile every snapshot day, print what is off.

    Runs the `inventory_reconciliation` job (what the daily schedule runs), then prints the
    discrepancies outside tolerance on the latest snapshot day, largest value first, with
    their likely cause, and the inventory record accuracy per location. Tolerances come from
    [reconciliation] in shelfwise.toml.

    \b
    Example:
      shelfwise reconcile --limit 10
    """
    from assets.inventory.config import reconciliation_settings
    from pipelines.commands.core import run_job
    from pipelines.summary import format_table

    settings = _settings(ctx)
    rec = reconciliation_settings(settings)
    result = run_job(settings, "inventory_reconciliation", raise_on_error=False)
    if not result.success:
        raise click.ClickException("the reconciliation run failed: see `shelfwise ui` for its logs")
    with _open_read_only(settings) as con:
        latest = con.execute("SELECT max(snapshot_date) FROM marts.reconciliation").fetchall()[0][0]
        if latest is None:
            click.echo("nothing to reconcile yet: reconciliation needs two snapshot days")
            return
        rows = con.execute(
            """SELECT snapshot_date, location_id, sku, expected_on_hand, counted_on_hand,
                      difference_units, round(difference_value_base, 2), likely_cause,
                      coalesce(cause_reference, '')
               FROM marts.reconciliation
               WHERE NOT within_tolerance AND (? OR snapshot_date = ?)
               ORDER BY abs(difference_value_base) DESC NULLS LAST, snapshot_date DESC, sku
               LIMIT ?""",
            [all_days, latest, limit],
        ).fetchall()
        total = con.execute(
            """SELECT count(*), coalesce(sum(abs(difference_value_base)), 0)
               FROM marts.reconciliation
               WHERE NOT within_tolerance AND (? OR snapshot_date = ?)""",
            [all_days, latest],
        ).fetchall()[0]
        accuracy = con.execute(
            """SELECT location_id, sku_locations, within_tolerance, accuracy
               FROM marts.inventory_record_accuracy WHERE snapshot_date = ?
               ORDER BY location_id""",
            [latest],
        ).fetchall()
    scope = "all snapshot days" if all_days else f"snapshot day {latest}"
    click.echo(f"Discrepancies outside tolerance ({rec.tolerance_units} units or "
               f"{rec.tolerance_pct:.1%}), {scope}: {total[0]:,}, "
               f"{total[1]:,.2f} {settings.base_currency} at cost")
    if rows:
        click.echo(format_table(
            ["day", "location", "sku", "expected", "counted", "diff", f"value {settings.base_currency}",
             "likely cause", "reference"],
            [(str(r[0]), *r[1:]) for r in rows]))
    click.echo(f"\nInventory record accuracy on {latest} (minimum {rec.min_accuracy:.0%})")
    click.echo(format_table(
        ["location", "sku-locations", "within tolerance", "accuracy", ""],
        [(r[0], r[1], r[2], f"{r[3]:.2%}", "BELOW MINIMUM" if r[3] < rec.min_accuracy else "")
         for r in accuracy]))
    overall = sum(r[2] for r in accuracy) / max(sum(r[1] for r in accuracy), 1)
    click.echo(f"overall: {overall:.2%}")


@click.command()
@click.option("--channel", help="only this channel id")
@click.option("--verify/--no-verify", default=True, show_default=True,
              help="recompute each file's sha256 and compare with the manifest")
@click.pass_context
def feeds(ctx, channel, verify):
    """List the channel availability feed files in the outbox with their sha256.

    Reads <home>/outbox/manifest.jsonl (the newest entry per file); with --verify a file that
    changed or disappeared since it was written is flagged.

    \b
    Example:
      shelfwise feeds --channel etsy
    """
    from assets.inventory.feeds import FEED_KIND
    from assets.outbox import read_manifest, sha256_file
    from pipelines.summary import format_table

    settings = _settings(ctx)
    entries = [e for e in read_manifest(settings.outbox)
               if e.get("kind") == FEED_KIND and (channel is None or e.get("channel_id") == channel)]
    if not entries:
        raise click.ClickException(
            f"no channel feeds listed in {settings.outbox / 'manifest.jsonl'}: "
            "run `shelfwise demo` or the `inventory` job")
    latest = {}
    for entry in entries:  # later entries of the same path supersede earlier ones
        latest[entry["path"]] = entry
    rows = []
    for path, entry in sorted(latest.items()):
        state = ""
        if verify:
            file = settings.outbox / path
            state = ("missing" if not file.exists()
                     else "ok" if sha256_file(file) == entry["sha256"] else "CHANGED")
        rows.append((entry.get("channel_id", ""), entry.get("as_of", ""), path,
                     entry.get("rows") or 0, entry["sha256"], state))
    click.echo(format_table(["channel", "as of", "file", "rows", "sha256", "check"], rows))


COMMANDS = [ats, reconcile, feeds]
