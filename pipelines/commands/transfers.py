"""Transfers command: spare stock moved between locations before anything is bought."""

from __future__ import annotations

from pathlib import Path

import click

from pipelines.commands.replenishment import _read_only, _require, _write_export


@click.command()
@click.option("--sku", help="only this SKU")
@click.option("--from", "from_location", help="only transfers from this location id")
@click.option("--to", "to_location", help="only transfers to this location id")
@click.option("--limit", default=30, show_default=True, help="transfers to print (0: all)")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="also export every matching transfer (.csv or .xlsx)")
@click.option("--refresh", is_flag=True, help="run the replenishment job first")
@click.pass_context
def transfers(ctx, sku, from_location, to_location, limit, out, refresh):
    """Today's transfer suggestions: spare stock sent where it is needed, before buying.

    A location's spare stock is what it holds free (on hand − allocated − backorders) above
    its order-up-to level plus its lead-time demand, in whole cases; a location at or below
    its reorder point takes it (up to order-up-to − position) before a purchase is suggested
    for the rest. Lead time and cost per location pair: [replenishment.transfers] in
    shelfwise.toml (default 3 days, no cost; docs/replenishment.md).

    \b
    Examples:
      shelfwise transfers
      shelfwise transfers --from WH-BER --out from-berlin.csv
    """
    from pipelines.summary import format_table

    settings, opened = _read_only(ctx, refresh)
    with opened as con:
        _require(con, "marts.transfer_suggestions")
        frame = con.sql(
            """SELECT * FROM marts.transfer_suggestions
               WHERE ($sku IS NULL OR sku = $sku)
                 AND ($from IS NULL OR from_location_id = $from)
                 AND ($to IS NULL OR to_location_id = $to)""",
            params={"sku": sku, "from": from_location, "to": to_location},
        ).pl()
    if frame.is_empty():
        click.echo("no transfers match: no location holds spare stock another one needs"
                   + (" for these filters" if sku or from_location or to_location else ""))
        return
    if out:
        _write_export(frame, out)
    shown = frame.head(limit) if limit else frame
    base = settings.base_currency
    click.echo(format_table(
        ["sku", "from → to", "units", "cases", "ships", "arrives", f"value {base}",
         f"cost {base}"],
        [(r["sku"], f"{r['from_location_id']} → {r['to_location_id']}", r["transfer_units"],
          r["cases"], str(r["ship_date"]), str(r["expected_arrival_date"]),
          f"{r['stock_value_base']:,.2f}" if r["stock_value_base"] is not None else "",
          f"{r['transfer_cost_base']:,.2f}") for r in shown.iter_rows(named=True)]))
    click.echo("\nReasons")
    for r in shown.iter_rows(named=True):
        click.echo(f"  {r['sku']} {r['from_location_id']} → {r['to_location_id']}: {r['reason']}")
    more = frame.height - shown.height
    click.echo(f"\n{frame.height} transfer(s), {int(frame['transfer_units'].sum())} units"
               + (f", {more} not shown (--limit 0 shows all)" if more else "")
               + (f"; exported to {out}" if out else ""))


COMMANDS = [transfers]
