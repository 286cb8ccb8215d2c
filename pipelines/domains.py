"""The list of domains whose definitions make up shelfwise.

A domain is a package under ``assets/`` that exposes ``defs``. Add new domains here.
"""

from __future__ import annotations

import importlib

import dagster as dg

DOMAINS = [
    "assets.ingest",
    "assets.inventory",
    "assets.kpis",
    "assets.forecast",
    "assets.replenishment",
    "assets.serving",
    "assets.quality",
    "assets.decisions",
    "assets.restock",
    "assets.alerts",
    "assets.home",
]


def domain_definitions() -> list[dg.Definitions]:
    return [importlib.import_module(name).defs for name in DOMAINS]
