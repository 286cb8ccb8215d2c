"""Planner decisions on transfer suggestions, kept in ``<home>/transfer_decisions.sqlite``.

The same store as the purchase decisions (:class:`assets.decisions.store.DecisionStore`: the
same statuses, audit rows, one transaction per save, sent lines final) in a file of its own,
so a purchase approval can never send a transfer and a transfer approval never a purchase:
``shelfwise restock`` reads ``decisions.sqlite`` only, ``shelfwise transfers send`` this file
only, and the ids of one are unknown to the commands of the other.

How a transfer fills the store's columns: ``suggestion_id`` is the ``transfer_id``,
``location_id`` the destination (``to_location_id``), ``supplier_id`` the source location
(``from_location_id``: the location that ships, as a supplier does), ``suggested_units`` the
suggested ``transfer_units`` and ``po_number`` the transfer number (``TR-<source>-<hash>``).
The whole transfer row as the planner saw it is kept in the ``suggestion`` snapshot.

Standard library only, like the purchase store.
"""

from __future__ import annotations

from assets.decisions.store import DecisionError, DecisionStore

FILE_NAME = "transfer_decisions.sqlite"

__all__ = ["FILE_NAME", "DecisionError", "TransferDecisionStore", "snapshot", "too_many"]


class TransferDecisionStore(DecisionStore):
    """The transfer decisions of one shelfwise home (``<home>/transfer_decisions.sqlite``)."""

    file_name = FILE_NAME
    sent_to = "the transfer file of source location"


def snapshot(transfer: dict) -> dict:
    """A ``marts.transfer_suggestions`` row as the store keeps it: the row itself plus the
    store's key fields (``location_id`` = destination, ``supplier_id`` = source,
    ``suggested_units`` = transfer units). No ``moq``: a transfer has no minimum, only whole
    cases (``case_pack``)."""
    row = {k: v for k, v in transfer.items() if k != "moq"}
    return {**row, "location_id": transfer["to_location_id"],
            "supplier_id": transfer["from_location_id"],
            "suggested_units": transfer["transfer_units"]}


def too_many(quantity: int, transfer: dict) -> str | None:
    """Why ``quantity`` units cannot be sent for ``transfer``: more than the suggested units
    would take the source below its order-up-to + lead-time demand (its spare units are
    what the suggestion holds). None when the quantity fits."""
    if quantity > int(transfer["transfer_units"]):
        return (f"{quantity} units is more than the {int(transfer['transfer_units'])} units "
                f"{transfer['from_location_id']} can spare (more would take it below its "
                "order-up-to + lead-time demand)")
    return None
