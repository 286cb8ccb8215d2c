"""Resources bound to a shelfwise home folder."""

from __future__ import annotations

from assets.settings import load_settings
from assets.warehouse import WarehouseResource
from assets.resources import SettingsResource


def build_resources(home: str | None = None) -> dict:
    settings = load_settings(home)
    return {
        "warehouse": WarehouseResource(
            path=str(settings.warehouse_path), memory_limit=settings.duckdb_memory_limit,
            threads=settings.duckdb_threads,
        ),
        "shelfwise": SettingsResource(home=str(settings.home)),
    }
