"""Where shelfwise keeps its state, and the knobs a retailer sets.

All state lives under one home folder (``SHELFWISE_HOME``, default ``./data``):

    <home>/inbox/        files as the channels, warehouses and suppliers export them
    <home>/warehouse/    shelfwise.duckdb, the warehouse of record (pipeline steps write it)
    <home>/serving/      serving.duckdb, the read-only snapshot the dashboards open
    <home>/outbox/       files shelfwise writes for others (channel feeds, supplier files, alerts)
    <home>/dagster/      DAGSTER_HOME: run storage, logs, schedules
    <home>/shelfwise.toml optional overrides of the settings below

Settings are read from ``shelfwise.toml`` in the home when present; every field has a default.
Each domain reads its own ``[table]`` into a dataclass of its knobs with :func:`read_section`
(unknown keys and wrong types are refused with a message naming the file, table and key),
then checks what only it knows (ranges, names).
"""

from __future__ import annotations

import os
import tomllib
import zoneinfo
from collections.abc import Iterable
from dataclasses import dataclass, field, fields, is_dataclass, replace
from pathlib import Path
from typing import Any, TypeVar

DEFAULT_HOME = "data"
T = TypeVar("T")


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


class SettingsError(ValueError):
    """A value in shelfwise.toml that cannot be used; the message names the file, the table
    and the key. Each domain raises its own subclass (``ForecastSettingsError``, ...)."""


_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "a string",
          tuple: "a list of strings"}


def _typed(where: str, key: str, value: Any, default: Any, error: type[Exception]) -> Any:
    """``value`` as the type of ``default``, or ``error`` naming the table and the key.

    A whole number is accepted where a number is wanted (TOML's ``90`` for ``90.0``); a
    boolean is never a number; a string or a list of strings fills a tuple. A default of None
    says nothing about the type: the value is returned as given, for the domain to check.
    """
    want = type(default)
    if default is None:
        return value
    if want is tuple:
        items = [value] if isinstance(value, str) else value
        if isinstance(items, list) and all(isinstance(v, str) for v in items):
            return tuple(items)
    elif want is float and isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    elif isinstance(value, want) and (want is bool or not isinstance(value, bool)):
        return value
    name = "list" if want is tuple else want.__name__
    words = _WORDS.get(want, f"a {name}")
    detail = f"got a {type(value).__name__}"
    raise error(f"{where} {key} = {value!r}: expected {words} ("
                + (detail if words == f"a {name}" else f"expected a {name}, {detail}") + ")")


def read_table(values: dict, table: str, cls: type[T], *,
               error: type[Exception] = SettingsError, where: str | None = None,
               keys: Iterable[str] | None = None, sub_tables: Iterable[str] = (),
               **given: Any) -> T:
    """The dataclass ``cls`` filled from the TOML table ``values`` (``[table]``, dotted for a
    sub-table), defaults for keys not there.

    A key that is not a field of ``cls`` (or not in ``keys``, when given) raises ``error``
    naming it and listing the known ones; a value not of its default's type raises ``error``
    naming the key (see :func:`_typed`). A field whose default is a dict is a sub-table
    (``[table.key]``), returned as given; one whose default is a dataclass is read from its
    sub-table by this same function. ``sub_tables``: sub-tables the table may hold that are
    not fields of ``cls`` (the caller reads them). ``given``: field values from elsewhere
    (``base_currency`` from the top of the file), used where the table does not set the key.
    ``where``: how messages name the table (default ``shelfwise.toml [table]``).
    """
    where = where or f"shelfwise.toml [{table}]"
    names = [f.name for f in fields(cls) if keys is None or f.name in set(keys)]
    sub_tables = tuple(sub_tables)
    unknown = sorted(set(values) - set(names) - set(sub_tables))
    if unknown:
        tables = ", ".join(f"[{table}.{t}]" for t in sub_tables)
        raise error(f"{where}: unknown key(s) {', '.join(unknown)}; known: {', '.join(names)}"
                    + (f" and the tables {tables}" if tables else ""))
    defaults = cls(**given)
    out = dict(given)
    for key, value in values.items():
        if key in sub_tables:
            continue
        default = getattr(defaults, key)
        if isinstance(default, dict) or is_dataclass(default):
            if not isinstance(value, dict):
                raise error(f"{where} {key}: expected a table [{table}.{key}]")
            out[key] = (value if isinstance(default, dict) else
                        read_table(value, f"{table}.{key}", type(default), error=error))
            continue
        out[key] = _typed(where, key, value, default, error)
    return cls(**out)


def read_section(settings: Settings, section: str, cls: type[T], *,
                 error: type[Exception] = SettingsError, keys: Iterable[str] | None = None,
                 sub_tables: Iterable[str] = (), **given: Any) -> T:
    """The dataclass ``cls`` from the ``[section]`` table of shelfwise.toml: the one way a
    domain reads its settings (:func:`read_table` has the rules). ``section`` may name a
    sub-table (``"alerts.webhook"``); a missing table gives the defaults, a value that is not
    a table where one is expected raises ``error`` naming it."""
    first, *rest = section.split(".")
    values: Any = settings.section(first)
    for depth, part in enumerate(rest, start=1):
        values = values.get(part, {})
        if not isinstance(values, dict):
            parent = ".".join([first, *rest[:depth - 1]])
            raise error(f"shelfwise.toml [{parent}] {part}: expected a table [{section}]")
    return read_table(values, section, cls, error=error, keys=keys, sub_tables=sub_tables,
                      **given)


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
