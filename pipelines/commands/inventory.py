"""Inventory commands: ats, reconcile, feeds."""

from __future__ import annotations

import click

from assets.settings import load_settings
from pipelines.commands.common import open_read_only, require_tables


def _settings(ctx: click.Context):
    return load_settings(ctx.obj["home"])


FIX = "run `shelfwise demo` or the `inventory` job"


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
    from pipelines import queries
    from pipelines.summary import format_table

    settings = _settings(ctx)
    with open_read_only(settings) as con:
        if location:
            require_tables(con, "marts.ats_by_sku_location", fix=FIX)
            frame = queries.ats_by_location(con, location=location, sku=sku, limit=limit or None)
            headers = ["as of", "location", "sku", "bundle", "on hand", "allocated", "reserved", "ATS"]
            numbers = ["on_hand_units", "allocated_units", "reserved_units", "ats_units"]
            place = "location_id"
        else:
            require_tables(con, "marts.ats_by_sku_channel", fix=FIX)
            frame = queries.ats_by_channel(con, channel=channel, sku=sku, limit=limit or None)
            headers = ["as of", "channel", "sku", "bundle", "locations ATS", "buffer", "ATS"]
            numbers = ["location_ats_units", "safety_buffer_units", "ats_units"]
            place = "channel_id"
    if frame.is_empty():
        raise click.ClickException("no ATS rows match: check the channel, SKU or location id")
    click.echo(format_table(headers, [
        (str(r["as_of"]), r[place], r["sku"], "yes" if r["is_bundle"] else "",
         *(r[n] for n in numbers)) for r in frame.iter_rows(named=True)
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
    from pipelines import queries
    from pipelines.commands.common import run_job
    from pipelines.summary import format_table

    settings = _settings(ctx)
    rec = reconciliation_settings(settings)
    result = run_job(settings, "inventory_reconciliation", raise_on_error=False)
    if not result.success:
        raise click.ClickException("the reconciliation run failed: see `shelfwise ui` for its logs")
    with open_read_only(settings) as con:
        latest = queries.latest_snapshot_day(con)
        if latest is None:
            click.echo("nothing to reconcile yet: reconciliation needs two snapshot days")
            return
        rows = queries.discrepancies(con, all_days=all_days, day=latest, limit=limit)
        total = queries.discrepancy_totals(con, all_days=all_days, day=latest)
        accuracy = queries.record_accuracy(con, latest)
    scope = "all snapshot days" if all_days else f"snapshot day {latest}"
    click.echo(f"Discrepancies outside tolerance ({rec.tolerance_units} units or "
               f"{rec.tolerance_pct:.1%}), {scope}: {total['discrepancies']:,}, "
               f"{total['value_base']:,.2f} {settings.base_currency} at cost")
    if not rows.is_empty():
        click.echo(format_table(
            ["day", "location", "sku", "expected", "counted", "diff", f"value {settings.base_currency}",
             "likely cause", "reference"],
            [(str(r["snapshot_date"]), r["location_id"], r["sku"], r["expected_on_hand"],
              r["counted_on_hand"], r["difference_units"], r["difference_value_base"],
              r["likely_cause"], r["cause_reference"]) for r in rows.iter_rows(named=True)]))
    click.echo(f"\nInventory record accuracy on {latest} (minimum {rec.min_accuracy:.0%})")
    click.echo(format_table(
        ["location", "sku-locations", "within tolerance", "accuracy", ""],
        [(r["location_id"], r["sku_locations"], r["within_tolerance"], f"{r['accuracy']:.2%}",
          "BELOW MINIMUM" if r["accuracy"] < rec.min_accuracy else "")
         for r in accuracy.iter_rows(named=True)]))
    overall = accuracy["within_tolerance"].sum() / max(accuracy["sku_locations"].sum(), 1)
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
