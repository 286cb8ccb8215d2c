"""Approval commands: approve, reject, decisions, restock.

Decisions go to the decision store (``<home>/decisions.sqlite``), never the warehouse, so a
planner can decide while a pipeline run holds the warehouse. The suggestion a decision is
about is looked up in the serving snapshot (or, when it is not there yet, the warehouse
read-only) and saved with the decision for the audit trail.
"""

from __future__ import annotations

import click

from assets.decisions.store import DecisionError, DecisionStore
from assets.settings import load_settings
from pipelines.commands.common import login, note_option, rows_by_id, user_option

SUGGESTIONS_TABLE = "marts.replenishment_suggestions"


def _suggestions(settings, ids: list[str], supplier: str | None):
    """``(rows by suggestion_id, where they came from)``: the asked-for suggestions, or every
    suggestion of the latest day for ``supplier``. The serving snapshot first (never locked);
    the warehouse read-only when the snapshot does not have them; ``({}, None)`` when neither
    can be read."""
    from pipelines import queries

    return rows_by_id(settings, SUGGESTIONS_TABLE, "suggestion_id",
                      lambda con: queries.suggestions_by_id(con, ids, supplier), ids,
                      need_any=supplier is not None)


def _decide_command(ctx, action: str, ids: tuple[str, ...], quantity, user, note, supplier):
    from pipelines.summary import format_table

    settings = load_settings(ctx.obj["home"])
    if not ids and not supplier:
        raise click.UsageError("give one or more SUGGESTION_IDs or --all-for-supplier")
    if quantity is not None and (len(ids) != 1 or supplier):
        raise click.UsageError("--quantity is per line: give exactly one SUGGESTION_ID")
    store = DecisionStore(settings.home)
    rows, source = _suggestions(settings, list(ids), supplier)
    missing = [i for i in ids if i not in rows]
    if source and missing:
        raise click.ClickException(
            f"unknown suggestion id(s) {', '.join(missing)}: not in {SUGGESTIONS_TABLE} "
            f"({source}); list them on the Replenishment page or in the serving snapshot")
    if supplier and not rows:
        raise click.ClickException(
            f"no current suggestions for supplier {supplier!r}" if source else
            f"cannot read {SUGGESTIONS_TABLE}: run `shelfwise demo` or wait for the running pipeline")
    if not source:
        click.echo(f"warning: {SUGGESTIONS_TABLE} could not be read (no snapshot, warehouse busy):"
                   " saving the decision without the suggestion's details", err=True)
    targets = list(ids)
    if supplier:
        # the convenience form only touches lines nobody has decided on yet
        # a line with only a planned quantity is still undecided: approved at that quantity
        decided = {r["suggestion_id"] for r in store.latest() if r["status"] != "proposed"}
        extra = [i for i in rows if i not in decided and i not in targets]
        skipped = len([i for i in rows if i in decided and i not in targets])
        targets += extra
        if skipped:
            click.echo(f"{skipped} suggestion(s) of {supplier} already decided: left as they are")
    if not targets:
        click.echo("nothing to decide")
        return
    store_action = "edit" if action == "approve" and quantity is not None else action
    try:
        saved = store.decide_many(
            [{"suggestion_id": i, "action": store_action, "quantity": quantity, "note": note,
              "suggestion": rows.get(i)} for i in targets],
            user=user or login(),
        )
    except DecisionError as exc:
        raise click.ClickException(f"nothing saved: {exc}") from exc
    click.echo(format_table(
        ["suggestion", "sku", "location", "supplier", "suggested", "quantity", "status"],
        [(r["suggestion_id"], r["sku"], r["location_id"], r["supplier_id"], r["suggested_units"],
          r["quantity"], r["status"]) for r in saved]))
    pending = store.pending_count()
    click.echo(f"\nsaved in {store.path}; {pending} approved line(s) wait to be sent "
               "(`shelfwise restock` sends them now; the restock sensor does it when on)")


_supplier = click.option("--all-for-supplier", "supplier", metavar="SUPPLIER_ID",
                         help="every current suggestion of this supplier not yet decided")


@click.command()
@click.argument("suggestion_ids", nargs=-1)
@click.option("--quantity", type=int, help="order this many units instead (one SUGGESTION_ID)")
@user_option
@note_option
@_supplier
@click.pass_context
def approve(ctx, suggestion_ids, quantity, user, note, supplier):
    """Approve replenishment suggestions (optionally with your own quantity).

    The decision is saved at once in <home>/decisions.sqlite, also while the pipeline runs.
    A quantity (units) must be whole cases and at least the MOQ; a quantity other than the
    suggested one makes the line "edited". A line already sent to its supplier cannot change.

    \b
    Examples:
      shelfwise approve 3f2a9c...  7b1e04...
      shelfwise approve 3f2a9c... --quantity 48 --note "promo in March"
      shelfwise approve --all-for-supplier SUP-01 --user anna
    """
    _decide_command(ctx, "approve", suggestion_ids, quantity, user, note, supplier)


@click.command()
@click.argument("suggestion_ids", nargs=-1)
@user_option
@note_option
@_supplier
@click.pass_context
def reject(ctx, suggestion_ids, user, note, supplier):
    """Reject replenishment suggestions: nothing is ordered for them.

    A rejected line can be approved later, until it is sent.

    \b
    Example:
      shelfwise reject 3f2a9c... --note "range delisted in January"
    """
    _decide_command(ctx, "reject", suggestion_ids, None, user, note, supplier)


@click.command()
@click.option("--history", "show_history", is_flag=True,
              help="every change (audit trail) instead of the current decisions")
@click.option("--suggestion", "suggestion_id", help="only this suggestion id")
@click.option("--status", type=click.Choice(["proposed", "approved", "edited", "rejected", "sent"]),
              help="only decisions with this status")
@click.option("--limit", default=50, show_default=True, help="rows to print, newest first (0: all)")
@click.pass_context
def decisions(ctx, show_history, suggestion_id, status, limit):
    """The planners' decisions on suggestions, or with --history every change to them.

    Reads <home>/decisions.sqlite only (works while the pipeline runs). Times are UTC.

    \b
    Examples:
      shelfwise decisions --status approved
      shelfwise decisions --history --suggestion 3f2a9c...
    """
    from pipelines.summary import format_table

    store = DecisionStore(load_settings(ctx.obj["home"]).home)
    if show_history:
        rows = [r for r in store.history(suggestion_id)][::-1]
        headers = ["when (UTC)", "suggestion", "user", "action", "field", "from", "to", "note"]
        table = [(r["decided_at"][:19], r["suggestion_id"], r["user"], r["action"], r["field"],
                  r["old_value"], r["new_value"], r["note"]) for r in rows]
    else:
        rows = [r for r in store.latest()[::-1]
                if (status is None or r["status"] == status)
                and (suggestion_id is None or r["suggestion_id"] == suggestion_id)]
        headers = ["suggestion", "status", "sku", "location", "supplier", "suggested",
                   "quantity", "decided (UTC)", "user", "po", "note"]
        table = [(r["suggestion_id"], r["status"], r["sku"], r["location_id"], r["supplier_id"],
                  r["suggested_units"], r["quantity"], r["decided_at"][:19], r["user"],
                  r["po_number"], r["note"]) for r in rows]
    if not table:
        click.echo("no decisions yet" if not (status or suggestion_id) else "no decisions match")
        return
    click.echo(format_table(headers, table[:limit or None]))
    if limit and len(table) > limit:
        click.echo(f"... {len(table) - limit} more (--limit 0 shows all)")


@click.command()
@click.option("--supplier", "suppliers", multiple=True, metavar="SUPPLIER_ID",
              help="only this supplier's approved lines (repeat for several)")
@click.option("--dry-run", is_flag=True,
              help="show the purchase orders that would go out and the held ones; write nothing")
@click.option("--force", is_flag=True,
              help="send orders below the supplier's minimum order value anyway (audited)")
@user_option
@click.pass_context
def restock(ctx, suppliers, dry_run, force, user):
    """Send the approved lines now: one purchase order per supplier (CSV + XLSX).

    Runs the `restock_files` job (what the restock sensor starts): imports the decisions,
    writes <home>/outbox/suppliers/<supplier>/<PO>.csv and .xlsx, lists them in
    <home>/outbox/manifest.jsonl with their sha256, delivers them through the sink of
    [restock] in shelfwise.toml and marks the lines sent. Safe to re-run: the same lines
    give the same PO number and the same files, and sent lines never go out again.

    An order below its supplier's minimum order value (approved lines, supplier currency)
    is held: its lines stay approved and waiting, and the command exits 1 naming the
    supplier and the shortfall. Approve more of its lines, or send it anyway with --force
    (the audit records who did and by how much it was short).

    The Replenishment page's "Send purchase orders" runs the same code (preview, hold,
    force, audit).

    \b
    Examples:
      shelfwise restock --dry-run                  # preview: what would go out, what is held
      shelfwise restock --supplier SUP-004
      shelfwise restock --supplier SUP-013 --force --user anna
    """
    from pipelines.commands.restock import restock_orders
    from pipelines.summary import format_table

    settings = load_settings(ctx.obj["home"])
    # the same function as the Replenishment page's Preview and Send buttons
    outcome = restock_orders(settings, suppliers=suppliers, dry_run=dry_run, force=force,
                             user=user or login())
    if not outcome.waiting_lines:
        click.echo("no approved lines waiting to be sent")
        return
    if dry_run:
        click.echo(format_table(
            ["supplier", "po", "lines", "units", "value", "currency", "minimum", "outcome"],
            [(o["supplier_id"], o["po_number"], o["lines"], o["units"], f"{o['value']:,.2f}",
              o["currency"], f"{o['minimum']:,.2f}" if o["minimum"] else "-", o["outcome"])
             for o in outcome.orders]))
        click.echo("\ndry run: nothing written, nothing sent")
        return
    if outcome.sent:
        click.echo(format_table(
            ["supplier", "po", "lines", "units", "value", "currency", "file", "sha256"],
            [(o["supplier_id"], o["po_number"], o["lines"], o["units"], o["value"],
              o["currency"], o["file"], o["sha256"]) for o in outcome.sent]))
    click.echo(f"\n{outcome.lines_sent} line(s) sent on {len(outcome.sent)} purchase order(s); "
               f"files under {settings.outbox / 'suppliers'}")
    if outcome.problems:
        raise click.ClickException("\n".join(outcome.problems))
