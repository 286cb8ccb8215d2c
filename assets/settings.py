"""Where shelfwise keeps its state, and the knobs a retailer sets.

All state lives under one home folder (``SHELFWISE_HOME``, default ``./data``):

    <home>/inbox/        files as the channels, warehouses and suppliers export them
    <home>/warehouse/    shelfwise.duckdb, the warehouse of record (pipeline steps write it)
    <home>/serving/      serving.duckdb, the read-only snapshot the dashboards open
    <home>/outbox/       files shelfwise writes for others (channel feeds, supplier files, alerts)
    <home>/dagster/      DAGSTER_HOME: run storage, logs, schedules
    <home>/shelfwise.toml optional overrides of the settings below

Settings are read from ``shelfwise.toml`` in the home when present; every field has a default.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path

DEFAULT_HOME = "data"


def home_dir(home: str | os.PathLike | None = None) -> Path:
    """The shelfwise home: the argument, else ``$SHELFWISE_HOME``, else ``./data``."""
    return Path(home or os.environ.get("SHELFWISE_HOME") or DEFAULT_HOME).resolve()


@dataclass(frozen=True)
class Settings:
    home: Path
    base_currency: str = "EUR"
    # salt for the customer key hash; set your own secret in shelfwise.toml in production
    pii_salt: str = "shelfwise-demo-salt"
    # how many leading characters of a postal code are kept (enough for regional KPIs)
    postal_prefix_chars: int = 3
    # DuckDB memory cap for pipeline steps (DuckDB syntax, e.g. "8GB"; "": DuckDB's default,
    # 80 % of RAM); above it DuckDB spills to disk where it can
    duckdb_memory_limit: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def inbox(self) -> Path:
        return self.home / "inbox"

    @property
    def warehouse_path(self) -> Path:
        return self.home / "warehouse" / "shelfwise.duckdb"

    @property
    def serving_path(self) -> Path:
        return self.home / "serving" / "serving.duckdb"

    @property
    def outbox(self) -> Path:
        return self.home / "outbox"

    @property
    def dagster_home(self) -> Path:
        return self.home / "dagster"

    def section(self, name: str) -> dict:
        """A `[name]` table of shelfwise.toml (empty when absent)."""
        return dict(self.extra.get(name, {}))


def load_settings(home: str | os.PathLike | None = None) -> Settings:
    """Settings for a home folder, with ``shelfwise.toml`` overrides applied."""
    root = home_dir(home)
    settings = Settings(home=root)
    toml_path = root / "shelfwise.toml"
    if toml_path.exists():
        data = tomllib.loads(toml_path.read_text(encoding="utf-8"))
        known = {f.name for f in fields(Settings)} - {"home", "extra"}
        top = {k: v for k, v in data.items() if k in known}
        extra = {k: v for k, v in data.items() if k not in known}
        settings = replace(settings, **top, extra=extra)
    return settings
