"""The one registry of the domains whose definitions make up shelfwise.

A domain is a package under ``assets/`` that exposes ``defs`` (its assets and checks, the
quality checks of ``assets/<domain>/checks.py`` included) and ``SERVED_MARTS`` (the marts the
serving snapshot waits for). Add a new domain to :data:`DOMAINS`; nothing else enumerates them.
"""

from __future__ import annotations

import dagster as dg

from assets import alerts, decisions, forecast, home, ingest, inventory, kpis, replenishment, restock
from assets.serving import serving_definitions
from assets.warehouse import mart

# in the order their definitions are merged; serving comes after the domains it publishes
DOMAINS = (ingest, inventory, kpis, forecast, replenishment, decisions, restock, alerts, home)


def served_marts() -> list[dg.AssetKey]:
    """Every mart a domain exports, as an asset key: what the serving snapshot waits for."""
    return sorted({mart(name) for domain in DOMAINS for name in domain.SERVED_MARTS},
                  key=lambda key: key.to_user_string())


# the publish step with every exported mart upstream (tests materialize it with a few domains)
serving_defs = serving_definitions(served_marts())


def domain_definitions() -> list[dg.Definitions]:
    """Each domain's definitions, then the serving snapshot's."""
    return [*(domain.defs for domain in DOMAINS), serving_defs]
