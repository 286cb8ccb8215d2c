"""Transfers commands: spare stock moved between locations before anything is bought.

``shelfwise transfers`` lists today's transfer suggestions with their id and status;
``approve`` / ``reject`` decide on them (the transfer decision store,
``<home>/transfer_decisions.sqlite``, apart from the purchase decisions); ``send`` writes one
transfer file per source location into the outbox and marks the lines sent.
"""

from __future__ import annotations

from pathlib import Path

import click

from pipelines.commands.common import (
    check_known,
    listing_to_show,
    login,
    note_option,
    read_only_after,
    require_tables,
    rows_by_id,
    user_option,
    with_decision_status,
)
from pipelines.commands.replenishment import FIX

TABLE = "marts.transfer_suggestions"


def _store(ctx):
    from assets.decisions.transfer_store import TransferDecisionStore
    from assets.settings import load_settings

    settings = load_settings(ctx.obj["home"])
    return settings, TransferDecisionStore(settings.home)


@click.group(invoke_without_command=True)
@click.option("--sku", help="only this SKU")
@click.option("--from", "from_location", help="only transfers from this location id")
@click.option("--to", "to_location", help="only transfers to this location id")
@click.option("--limit", default=30, show_default=True, help="transfers to print (0: all)")
@click.option("--all", "show_all", is_flag=True,
              help="also the transfers already sent (hidden by default)")
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="also export every matching transfer (.csv or .xlsx)")
@click.option("--refresh", is_flag=True, help="run the replenishment job first")
@click.pass_context
def transfers(ctx, sku, from_location, to_location, limit, show_all, out, refresh):
    """Today's transfer suggestions: spare stock sent where it is needed, before buying.

    A location's spare stock is what it holds free (on hand − allocated − backorders) above
    its order-up-to level plus its lead-time demand, in whole cases; a location at or below
    its reorder point takes it (up to order-up-to − position) before a purchase is suggested
    for the rest. Lead time and cost per location pair: [replenishment.transfers] in
    shelfwise.toml (default 3 days, no cost; docs/replenishment.md).

    Each line shows its id and status (what `transfers approve` / `reject` take); sent lines
    only with --all. An unknown SKU or location is an error (exit 1).

    \b
    Examples:
      shelfwise transfers
      shelfwise transfers --from WH-BER --out from-berlin.csv
      shelfwise transfers approve 9c41e0... 77d2ab... --user anna
      shelfwise transfers reject 9c41e0... --note "Berlin stock is reserved for a B2B order"
      shelfwise transfers send --dry-run
    """
    if ctx.invoked_subcommand is not None:
        return
    from pipelines import queries
    from pipelines.summary import format_table

    settings, opened = read_only_after(ctx, "replenishment" if refresh else None)
    with opened as con:
        require_tables(con, TABLE, fix=FIX)
        check_known(con, sku=sku, supplier=None, location=from_location)
        check_known(con, sku=None, supplier=None, location=to_location)
        frame = queries.transfers(con, sku=sku, from_location=from_location,
                                  to_location=to_location)
    _, store = _store(ctx)
    frame, hidden = with_decision_status(frame, settings.home, show_all, store, "transfer_id")
    shown = listing_to_show(
        frame, hidden, nothing="no transfers match: no location holds spare stock another one needs",
        filtered=bool(sku or from_location or to_location), sent_what="transfer(s)", out=out,
        limit=limit)
    if shown is None:
        return
    base = settings.base_currency
    click.echo(format_table(
        ["sku", "from → to", "units", "cases", "ships", "arrives", f"value {base}",
         f"cost {base}", "status", "id"],
        [(r["sku"], f"{r['from_location_id']} → {r['to_location_id']}", r["transfer_units"],
          r["cases"], str(r["ship_date"]), str(r["expected_arrival_date"]),
          f"{r['stock_value_base']:,.2f}" if r["stock_value_base"] is not None else "",
          f"{r['transfer_cost_base']:,.2f}",
          r["status"] + (f" ({r['decided_units']})" if r["status"] == "edited" else ""),
          r["transfer_id"]) for r in shown.iter_rows(named=True)]))
    click.echo("\nReasons")
    for r in shown.iter_rows(named=True):
        click.echo(f"  {r['sku']} {r['from_location_id']} → {r['to_location_id']}: {r['reason']}")
    more = frame.height - shown.height
    click.echo(f"\n{frame.height} transfer(s), {int(frame['transfer_units'].sum())} units"
               + (f", {more} not shown (--limit 0 shows all)" if more else "")
               + (f"; {hidden} sent transfer(s) hidden (--all shows them)" if hidden else "")
               + (f"; exported to {out}" if out else ""))


def _decide(ctx, action: str, ids: tuple[str, ...], quantity, user, note) -> None:
    """Save ``action`` on the transfers ``ids`` in the transfer decision store: all or none."""
    from assets.decisions.transfer_store import DecisionError, snapshot, too_many
    from pipelines import queries
    from pipelines.summary import format_table

    if not ids:
        raise click.UsageError("give one or more TRANSFER_IDs (`shelfwise transfers` lists them)")
    if quantity is not None and len(ids) != 1:
        raise click.UsageError("--quantity is per line: give exactly one TRANSFER_ID")
    settings, store = _store(ctx)
    rows, source = rows_by_id(settings, TABLE, "transfer_id",
                              lambda con: queries.transfers_by_id(con, list(ids)), list(ids))
    missing = [i for i in ids if i not in rows]
    if missing:
        # a purchase suggestion id is unknown here too: the two kinds never mix
        raise click.ClickException(
            f"unknown transfer id(s) {', '.join(missing)}: not in {TABLE}"
            + (f" ({source}); `shelfwise transfers` lists them" if source else
               ": cannot read it (run `shelfwise demo` or wait for the running pipeline)"))
    if quantity is not None:
        problem = too_many(quantity, rows[ids[0]])
        if problem:
            raise click.ClickException(f"nothing saved: quantity for {ids[0]}: {problem}")
    store_action = "edit" if action == "approve" and quantity is not None else action
    try:
        saved = store.decide_many(
            [{"suggestion_id": i, "action": store_action, "quantity": quantity, "note": note,
              "suggestion": snapshot(rows[i])} for i in ids],
            user=user or login())
    except DecisionError as exc:
        raise click.ClickException(f"nothing saved: {exc}") from exc
    click.echo(format_table(
        ["transfer", "sku", "from → to", "suggested", "quantity", "status"],
        [(r["suggestion_id"], r["sku"], f"{r['supplier_id']} → {r['location_id']}",
          r["suggested_units"], r["quantity"], r["status"]) for r in saved]))
    click.echo(f"\nsaved in {store.path}; {store.pending_count()} approved transfer(s) wait to "
               "be sent (`shelfwise transfers send`)")


@transfers.command("approve")
@click.argument("transfer_ids", nargs=-1)
@click.option("--quantity", type=int,
              help="send this many units instead (one TRANSFER_ID; whole cases, at most the "
                   "suggested units)")
@user_option
@note_option
@click.pass_context
def approve_transfers(ctx, transfer_ids, quantity, user, note):
    """Approve transfer suggestions: `transfers send` puts them on their source's file.

    Saved at once in <home>/transfer_decisions.sqlite (a store of its own: approving a
    transfer never orders from a supplier, and `shelfwise approve` never moves stock). The
    same rules as purchase approvals: your login name unless --user, every change in the
    audit trail, a sent transfer cannot change. A quantity must be whole cases and at most
    the suggested units (more would take the source below what it keeps for itself).

    \b
    Examples:
      shelfwise transfers approve 9c41e0... 77d2ab...
      shelfwise transfers approve 9c41e0... --quantity 24 --note "one case stays for the fair"
    """
    _decide(ctx, "approve", transfer_ids, quantity, user, note)


@transfers.command("reject")
@click.argument("transfer_ids", nargs=-1)
@user_option
@note_option
@click.pass_context
def reject_transfers(ctx, transfer_ids, user, note):
    """Reject transfer suggestions: nothing moves for them.

    A rejected transfer can be approved later, until it is sent.

    \b
    Example:
      shelfwise transfers reject 9c41e0... --note "Leeds stock is promised to a B2B order"
    """
    _decide(ctx, "reject", transfer_ids, None, user, note)


@transfers.command("send")
@click.option("--from", "from_locations", multiple=True, metavar="LOCATION_ID",
              help="only this source location's approved transfers (repeat for several)")
@click.option("--dry-run", is_flag=True, help="show the files that would be written; write nothing")
@user_option
@click.pass_context
def send_transfers_command(ctx, from_locations, dry_run, user):
    """Send the approved transfers now: one CSV file per source location.

    Writes <home>/outbox/transfers/<source>/<TR-number>.csv (lines only: transfer number,
    source, ship date, SKU, destination, units, cases, expected arrival on every row), lists
    it in <home>/outbox/manifest.jsonl with its sha256 and marks the lines sent. Safe to
    re-run: the same lines give the same transfer number and the same file, and a sent line
    never goes out again. Reads the transfer decision store only (no warehouse lock).

    \b
    Examples:
      shelfwise transfers send --dry-run
      shelfwise transfers send --from WH-BER
    """
    from assets.restock.transfer_files import send_transfers
    from pipelines.summary import format_table

    settings, store = _store(ctx)
    waiting = {r["supplier_id"] for r in store.pending()} if store.path.exists() else set()
    missing = [f for f in from_locations if f not in waiting]
    if missing:
        raise click.ClickException(
            f"no approved transfers waiting from location(s) {', '.join(missing)}: an unknown "
            "location id, or nothing of theirs approved (`shelfwise transfers --from "
            f"{missing[0]}` lists their lines)")
    if not waiting:
        click.echo("no approved transfers waiting to be sent")
        return
    run = send_transfers(settings.outbox, store, from_locations=list(from_locations) or None,
                         dry_run=dry_run, user=user or login())
    click.echo(format_table(
        ["from", "transfer", "lines", "units", "file", "sha256"],
        [(o.from_location_id, o.transfer_number, o.lines.height, o.total_units,
          "-" if dry_run else run.files[o.transfer_number][0].relative_to(settings.outbox),
          "-" if dry_run else run.files[o.transfer_number][1][:12]) for o in run.orders]))
    if dry_run:
        click.echo("\ndry run: nothing written, nothing sent")
        return
    click.echo(f"\n{run.lines} transfer line(s) sent on {len(run.orders)} file(s) under "
               f"{settings.outbox / 'transfers'}")
    if run.late_changes:
        click.echo(f"{len(run.late_changes)} line(s) changed while their file was written; "
                   "the file's quantity went out (see `shelfwise decisions --history`)")
