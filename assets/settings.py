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
import zoneinfo
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
    # DuckDB memory cap for every warehouse connection (DuckDB syntax, e.g. "8GB"; "":
    # min(2.5 GiB, 40 % of the machine's memory); "none": DuckDB's own default, 80 % of RAM);
    # above it DuckDB spills to <home>/warehouse/tmp/ where it can
    duckdb_memory_limit: str = ""
    # DuckDB worker threads per connection (0: one per core, at most 4)
    duckdb_threads: int = 0
    # how long a step waits for the "warehouse" pool slot held by another live run before the
    # run gives up, naming the run that holds it (seconds)
    pool_wait_seconds: float = 600.0
    # DuckDB memory cap while ingesting (""/"none": the connection's own limit). Ingest merges
    # in bounded pieces and commits per ~1M-row chunk, so a small cap suffices; it keeps a
    # first load of the medium benchmark set (9 GiB of exports) within a few GiB of RSS
    ingest_memory_limit: str = "2GB"
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


def check_timezone(value: str, section: str, key: str,
                   error: type[Exception] = ValueError) -> None:
    """Raise ``error`` naming ``[section] key`` unless ``value`` is a tz database name."""
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise error(
            f"shelfwise.toml [{section}] {key} = {value!r}: "
            "not a tz database name (e.g. 'Europe/Berlin')"
        ) from exc


def typed_section(settings: Settings, section: str, cls, error: type[Exception] = ValueError,
                  tables: tuple[str, ...] = ()) -> dict:
    """The keys of ``[section]`` checked against the dataclass ``cls``: ``{key: value}``.

    A key that is not a field of ``cls``, or a value not of its default's type, raises
    ``error`` with a message naming the table and the key. A whole number is accepted where a
    float is wanted (TOML's ``90`` for ``90.0``); a boolean is never a number. ``tables``:
    fields that hold a sub-table (``[section.key]``), returned as given.
    """
    values = settings.section(section)
    names = [f.name for f in fields(cls)]
    unknown = sorted(set(values) - set(names))
    if unknown:
        raise error(
            f"shelfwise.toml [{section}]: unknown key(s) {', '.join(unknown)}; "
            f"known: {', '.join(names)}"
        )
    defaults = cls()
    out = {}
    for key, value in values.items():
        if key in tables:
            if not isinstance(value, dict):
                raise error(f"shelfwise.toml [{section}] {key}: expected a table [{section}.{key}]")
            out[key] = value
            continue
        want = type(getattr(defaults, key))
        ok = isinstance(value, want) or (want is float and isinstance(value, int))
        if not ok or (isinstance(value, bool) and want is not bool):
            raise error(f"shelfwise.toml [{section}] {key} = {value!r}: expected a {want.__name__}")
        out[key] = want(value)
    return out


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
