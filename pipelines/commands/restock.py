"""Sending approved lines as purchase orders: the one code path behind ``shelfwise restock``
and the Replenishment page's "Preview" and "Send" buttons.

:func:`restock_orders` previews (``dry_run``) or sends the approved-but-unsent lines, one
purchase order per supplier, with the same rules wherever it is called from: an order below
its supplier's minimum order value is held unless ``force``; a send runs the ``restock_files``
job (what the restock sensor starts), so the files, the manifest, the sink and the audit are
those of a pipeline run; the audit records ``user`` as the sender (and, for a forced order,
by how much it was short). The command line formats the outcome as tables; the page as its
own tables. Dagster is imported only when something is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import click

from assets.decisions.store import DecisionStore


class RestockError(click.ClickException):
    """Nothing can be sent as asked (an unknown supplier, a busy warehouse): the message says
    why and what to do. A ``click.ClickException``, so the command line exits 1 with it."""


@dataclass
class RestockOutcome:
    """What :func:`restock_orders` found (``dry_run``) or did.

    - ``orders``: every purchase order of the scope, held or not: ``supplier_id, po_number,
      lines, units, value, currency`` (supplier currency), ``minimum`` (None: none),
      ``short_of_minimum``, ``outcome`` (``send``, ``send (below the minimum: --force)``,
      ``held: ...``).
    - ``held``: the same rows of the orders held below their minimum (not sent).
    - ``sent``: the purchase orders written and delivered by this call: ``supplier_id,
      po_number, lines, units, value, currency, file`` (``<outbox-relative stem>.{csv,xlsx}``),
      ``sha256`` (of the CSV, 12 characters), ``files`` (format -> outbox-relative path).
    - ``problems``: sentences for the planner (held orders with the fix, lines still pending,
      a failed run); empty when everything asked for went out.
    """

    dry_run: bool
    waiting_lines: int = 0
    orders: list[dict] = field(default_factory=list)
    held: list[dict] = field(default_factory=list)
    sent: list[dict] = field(default_factory=list)
    lines_sent: int = 0
    problems: list[str] = field(default_factory=list)


def _order_row(order, held_numbers: set[str]) -> dict:
    if order.po_number in held_numbers:
        outcome = (f"held: {order.short_of_minimum:,.2f} {order.currency} short of the minimum "
                   f"{order.min_order_value:,.2f}")
    else:
        outcome = "send (below the minimum: --force)" if order.short_of_minimum else "send"
    return {"supplier_id": order.supplier_id, "po_number": order.po_number,
            "lines": order.lines.height, "units": order.total_units,
            "value": order.total_value, "currency": order.currency,
            "minimum": order.min_order_value or None,
            "short_of_minimum": order.short_of_minimum, "outcome": outcome}


def held_message(order: dict) -> str:
    """``SUP-004: 28,441.00 of 47,300.00 CNY (18,859.00 short)``."""
    return (f"{order['supplier_id']}: {order['value']:,.2f} of {order['minimum']:,.2f} "
            f"{order['currency']} ({order['short_of_minimum']:,.2f} short)")


def restock_orders(settings, *, suppliers: list[str] | tuple[str, ...] = (),
                   dry_run: bool = False, force: bool = False,
                   user: str | None = None) -> RestockOutcome:
    """Preview (``dry_run``) or send the approved lines waiting in the decision store.

    ``suppliers``: only these suppliers' lines (empty: every supplier's); an id with no line
    waiting raises :class:`RestockError` naming it. ``force``: orders below their supplier's
    minimum order value go out too (the audit note says by how much). ``user``: who sends,
    recorded in the audit (default ``pipeline``). A send reads the warehouse read-only for the
    preview, then runs the ``restock_files`` job, which waits for the warehouse like any run.
    """
    from assets.outbox import read_manifest
    from assets.restock.deliver import SUPPLIER_FILE_KIND, send_pending
    from assets.warehouse import connect

    store = DecisionStore(settings.home)
    pending = store.pending()
    waiting_suppliers = {r["supplier_id"] for r in pending}
    missing = [s for s in suppliers if s not in waiting_suppliers]
    if missing:
        raise RestockError(
            f"no approved lines waiting for supplier(s) {', '.join(missing)}: an unknown "
            "supplier id, or nothing of theirs approved (`shelfwise suggestions --supplier "
            f"{missing[0]}` lists their lines)")
    scope = list(suppliers) or None
    waiting = {r["suggestion_id"] for r in pending if scope is None or r["supplier_id"] in scope}
    outcome = RestockOutcome(dry_run=dry_run, waiting_lines=len(waiting))
    if not waiting:
        return outcome
    if not Path(settings.warehouse_path).exists():
        raise RestockError(f"no warehouse at {settings.warehouse_path}: run `shelfwise run` first")
    with connect(settings.warehouse_path, read_only=True, wait_seconds=30) as con:
        preview = send_pending(con, settings, store=store, suppliers=scope,
                               force_below_minimum=force, dry_run=True)
    held_numbers = {o.po_number for o in preview.held}
    outcome.orders = [_order_row(o, held_numbers) for o in
                      sorted([*preview.orders, *preview.held], key=lambda o: o.supplier_id)]
    outcome.held = [o for o in outcome.orders if o["po_number"] in held_numbers]
    if dry_run:
        return outcome

    result = None
    if preview.orders:
        from pipelines.commands.common import run_job

        config = {"suppliers": scope, "force_below_minimum": force, "user": user}
        result = run_job(settings, "restock_files", raise_on_error=False,
                         ops={"ops__supplier_restock_lines": {"config": config}})
    sent = [r for r in store.latest() if r["suggestion_id"] in waiting and r["status"] == "sent"]
    outcome.lines_sent = len(sent)
    files: dict[str, dict] = {}
    for entry in read_manifest(settings.outbox):
        if entry.get("kind") == SUPPLIER_FILE_KIND:
            files.setdefault(entry["po_number"], {})[entry["format"]] = entry
    for supplier, po in sorted({(r["supplier_id"], r["po_number"]) for r in sent}):
        csv = files[po]["csv"]
        outcome.sent.append({
            "supplier_id": supplier, "po_number": po, "lines": csv["rows"],
            "units": csv["total_units"], "value": csv["total_value"], "currency": csv["currency"],
            "file": f"{Path(csv['path']).with_suffix('')}.{{csv,xlsx}}",
            "sha256": csv["sha256"][:12],
            "files": {fmt: entry["path"] for fmt, entry in files[po].items()},
        })
    held_ids = {sid for o in preview.held for sid in o.lines["suggestion_id"]}
    left = len({r["suggestion_id"] for r in store.pending()} & (waiting - held_ids))
    if outcome.held:
        outcome.problems.append(
            "held below the supplier's minimum order value, lines still approved and waiting: "
            + "; ".join(held_message(o) for o in outcome.held)
            + ". Approve more of their lines, or send anyway with "
            + " / ".join(f"`shelfwise restock --supplier {o['supplier_id']} --force`"
                         for o in outcome.held))
    if left or (result is not None and not result.success):
        outcome.problems.append(
            f"{left} approved line(s) still pending"
            + ("" if result is None or result.success
               else "; the restock run failed: see `shelfwise ui` for its logs"))
    return outcome
