"""Planner decisions on reorder suggestions: the dashboards' only write path.

Decisions go to the decision store (``assets/decisions/store.py``, ``<home>/decisions.sqlite``)
and nowhere else: never to the warehouse, never to the serving snapshot. The store is standard
library only (sqlite3), which is why this module may import it: it is the one documented
exception to "dashboards never import ``assets/``", and this module is the only place that does.

The snapshot holds the suggestions as the pipeline computed them; the store holds what the
planner decided since. :func:`overlay` puts the two together, so a decision shows on the page
at once, before the pipeline imports it into ``ops.suggestion_decisions``.
"""

from __future__ import annotations

import polars as pl

from assets.decisions.store import DecisionError, DecisionStore, quantity_problem
from dashboards import data

__all__ = ["STATUSES", "DecisionError", "history", "latest", "overlay", "quantity_problem", "save",
           "store"]

# the order a planner reads them in: still to decide first
STATUSES = ("proposed", "approved", "edited", "rejected", "sent")

_LATEST_SCHEMA = {
    "suggestion_id": pl.String, "status": pl.String, "decided_units": pl.Int64,
    "decided_at": pl.String, "decided_by": pl.String, "note": pl.String,
}
_HISTORY_SCHEMA = {
    "decided_at": pl.String, "user": pl.String, "action": pl.String, "field": pl.String,
    "old_value": pl.String, "new_value": pl.String, "note": pl.String,
}


def store() -> DecisionStore:
    """The decision store of the home the dashboards serve."""
    return DecisionStore(data.home())


def latest() -> pl.DataFrame:
    """The current decision per suggestion (status, decided_units in units, decided_at UTC,
    decided_by, note); empty when nobody has decided anything yet. Never creates the store's
    file just to read it."""
    decisions = store()
    rows = decisions.latest() if decisions.path.exists() else []
    return pl.DataFrame(
        [{"suggestion_id": r["suggestion_id"], "status": r["status"],
          "decided_units": r["quantity"], "decided_at": r["decided_at"],
          "decided_by": r["user"], "note": r["note"]} for r in rows],
        schema=_LATEST_SCHEMA,
    )


def overlay(suggestions: pl.DataFrame) -> pl.DataFrame:
    """``suggestions`` (one row per suggestion_id, with ``suggested_units``, ``unit_cost``,
    ``unit_cost_base``) with the planner's current decision on each: ``status`` (``proposed``
    while undecided), ``order_units`` (the decided quantity, else the suggested one; 0 when
    rejected), ``order_value`` (supplier currency) and ``order_value_base`` (EUR) of those
    units, ``decided_at`` (UTC), ``decided_by``, ``note``. Decisions on suggestions that are
    not in ``suggestions`` (an earlier day's) are left out."""
    return (
        suggestions.join(latest(), on="suggestion_id", how="left")
        .with_columns(pl.col("status").fill_null("proposed"))
        .with_columns(
            pl.when(pl.col("status") == "rejected").then(0)
            .otherwise(pl.coalesce("decided_units", "suggested_units"))
            .cast(pl.Int64).alias("order_units")
        )
        .with_columns(
            (pl.col("order_units") * pl.col("unit_cost")).alias("order_value"),
            (pl.col("order_units") * pl.col("unit_cost_base")).alias("order_value_base"),
        )
        .drop("decided_units")
    )


def save(lines: list[dict], action: str, *, user: str | None, note: str | None) -> list[dict]:
    """Save ``action`` (approve, edit, reject) on every line in one transaction: all or none.

    Each line is a suggestion row as the planner saw it (a dict with ``suggestion_id``,
    ``sku``, ``location_id``, ``supplier_id``, ``suggested_units``, ``case_pack``, ``moq``, ...)
    plus ``order_units`` (the planner's quantity in units) for approve and edit. Raises
    :class:`DecisionError` naming the line when a quantity is not whole cases or below the
    MOQ, or the line was already sent; nothing is saved then."""
    decisions = []
    for line in lines:
        quantity = None if action == "reject" else line.get("order_units")
        suggestion = {k: v for k, v in line.items()
                      if k not in ("order_units", "order_value", "order_value_base", "status",
                                   "decided_at", "decided_by", "note", "select")}
        decisions.append({"suggestion_id": line["suggestion_id"], "action": action,
                          "quantity": quantity, "note": note or None,
                          "suggestion": suggestion})
    return store().decide_many(decisions, user=user or None)


def history(suggestion_id: str) -> pl.DataFrame:
    """Every change to one suggestion's decision, oldest first: decided_at (UTC), user,
    action, field, old_value, new_value, note."""
    decisions = store()
    rows = decisions.history(suggestion_id) if decisions.path.exists() else []
    return pl.DataFrame([{k: r[k] for k in _HISTORY_SCHEMA} for r in rows],
                        schema=_HISTORY_SCHEMA)
