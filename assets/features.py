"""What each shelfwise feature needs from the inbox, as data: the one table behind
``shelfwise check``, the run summary's "skipped for lack of ...", docs/your-data.md's table
(tests/home/test_docs.py keeps them equal) and the dashboards' "this page needs ..." notes
(published as ``marts.feature_availability``).

A feature is available when every entity it needs has rows in ``core``. For ``products`` only
real master data counts: rows derived from order lines (:mod:`assets.ingest.derived`) name
a SKU but know no supplier, case pack or cost.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from assets.model import ENTITIES

# the value of core.products.source_file on a row derived from order lines (no master data)
DERIVED_PRODUCTS_SOURCE = "(derived from order lines)"


@dataclass(frozen=True)
class Feature:
    key: str  # stable id, used by the dashboards: data.feature_note("ats")
    name: str  # in the business's words
    needs: tuple[str, ...]  # core entities that must hold rows
    page: str  # where a person sees it


FEATURES: tuple[Feature, ...] = (
    Feature("kpis", "Order volume, revenue and fulfillment-time KPIs", ("order_lines",), "KPIs"),
    Feature("forecast", "Demand forecasts and forecast accuracy", ("order_lines",),
            "Forecast quality"),
    Feature("returns", "Return rate by SKU, channel and reason", ("order_lines", "returns"),
            "KPIs"),
    Feature("shipments", "Ship time from warehouse shipment events",
            ("order_lines", "fulfillment_events"), "KPIs"),
    Feature("ats", "Available to sell per location", ("stock_snapshots",), "Inventory"),
    Feature("channel_ats", "Available to sell per channel, channel availability feeds",
            ("stock_snapshots", "channel_locations"), "Inventory"),
    Feature("reconciliation", "Stock reconciliation and inventory record accuracy",
            ("stock_snapshots",), "Inventory"),
    Feature("stock_kpis", "Stockout days, inventory turnover, dead stock, fill rate",
            ("order_lines", "stock_snapshots"), "KPIs, Inventory"),
    Feature("oversell", "Oversell risk (listed quantity above ATS)",
            ("channel_listings", "stock_snapshots"), "Inventory"),
    Feature("replenishment", "Reorder suggestions, reorder points, projected stock",
            ("order_lines", "stock_snapshots", "products", "suppliers"), "Replenishment"),
    Feature("lead_times", "Lead times learned from purchase orders and receipts",
            ("purchase_orders", "receipts"), "Replenishment"),
)

FEATURE_BY_KEY = {f.key: f for f in FEATURES}

# what a person exports to fill each entity: the inbox folder and the kind of file
ENTITY_SOURCES: dict[str, str] = {
    "order_lines": "a channel's order export in inbox/orders/<channel>/",
    "products": "your product master data in inbox/products/",
    "suppliers": "your supplier list in inbox/suppliers/",
    "stock_snapshots": "daily stock-on-hand files in inbox/stock_snapshots/",
    "locations": "your warehouses and stores in inbox/locations/",
    "channel_locations": "which locations serve each channel in inbox/channel_locations/",
    "returns": "returns (RMA) in inbox/returns/",
    "fulfillment_events": "shipment events in inbox/fulfillment_events/",
    "channel_listings": "channel listings in inbox/channel_listings/",
    "purchase_orders": "purchase orders in inbox/purchase_orders/",
    "receipts": "goods receipts in inbox/receipts/",
}
assert set(ENTITY_SOURCES) <= set(ENTITIES)  # a renamed entity must fail loudly, at import


def entity_source(entity: str) -> str:
    return ENTITY_SOURCES.get(entity, f"files in inbox/{entity}/")


def present_entities(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Core entities with at least one row (``products``: at least one real master-data row).

    A warehouse without a ``core`` table for an entity (nothing ingested yet) lacks it.
    """
    have = {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'core'"
        ).fetchall()
    }
    out = set()
    for name in ENTITIES:
        if name not in have:
            continue
        where = " WHERE source_file IS DISTINCT FROM ?" if name == "products" else ""
        params = [DERIVED_PRODUCTS_SOURCE] if name == "products" else []
        # identifiers come from assets.model, the value is a parameter
        # fetchall: a fetchone leaves the result open, and DuckDB then refuses the caller's
        # next register() on this connection
        [(exists,)] = con.execute(f"SELECT EXISTS (SELECT 1 FROM core.{name}{where})",
                                  params).fetchall()
        if exists:
            out.add(name)
    return out


@dataclass(frozen=True)
class FeatureStatus:
    feature: Feature
    missing: tuple[str, ...]

    @property
    def available(self) -> bool:
        return not self.missing

    @property
    def how_to_enable(self) -> str:
        """'add stock snapshots (daily stock-on-hand files in inbox/stock_snapshots/)'."""
        return "; ".join(f"add {m.replace('_', ' ')} ({entity_source(m)})" for m in self.missing)


def feature_status(present: Iterable[str]) -> list[FeatureStatus]:
    """Every feature with the entities it still lacks, in :data:`FEATURES` order."""
    have = set(present)
    return [FeatureStatus(f, tuple(e for e in f.needs if e not in have)) for f in FEATURES]


def skipped_summary(statuses: list[FeatureStatus]) -> list[str]:
    """One line per missing entity: 'no stock snapshots: A, B and C are skipped'."""
    by_missing: dict[str, list[str]] = {}
    for s in statuses:
        for m in s.missing:
            by_missing.setdefault(m, []).append(s.feature.name)
    lines = []
    for entity, names in by_missing.items():
        lines.append(f"no {entity.replace('_', ' ')}: skipped: {'; '.join(names)} "
                     f"(add {entity_source(entity)})")
    return lines


def features_markdown() -> str:
    """The feature table of docs/your-data.md (a test keeps the doc equal to this)."""
    rows = ["| feature | needs (core entities) | page |", "|---|---|---|"]
    rows += [f"| {f.name} | {', '.join(f.needs)} | {f.page} |" for f in FEATURES]
    return "\n".join(rows)
