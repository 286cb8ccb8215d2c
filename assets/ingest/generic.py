"""The generic canonical format ("bring your own data"): one adapter per entity, from ENTITIES.

Layout::

    inbox/<entity>/**/*.csv | *.parquet                 every entity but order lines
    inbox/orders/<channel_id>/*.canonical.csv | .parquet   order lines of one channel

Format: the header is exactly the entity's column names (see docs/ingestion.md); optional
columns may be left out, an unknown column fails the file (``unexpected_columns``, naming
it), a missing required one too (``missing_columns``). Comma-separated, UTF-8, ``.`` as the
decimal point, no thousands separators. Dates ``YYYY-MM-DD``. Timestamps ISO 8601
(``2024-03-01T10:15:00``, a space instead of ``T`` is fine, fractional seconds optional);
an offset (``Z``, ``+02:00``, ``-0500``) is honoured and converted to UTC, none means UTC;
a bare date means midnight UTC. Booleans ``true/false``, ``1/0``, ``yes/no``, ``t/f``.
Parquet: the same column names, any types that print as the above (native dates,
timestamps, numbers and booleans are fine).

For canonical order files ``channel_id`` may be omitted (the folder names the channel) and
``sku`` may be omitted (the engine maps ``channel_sku`` through ``core.channel_listings``); a
row whose ``channel_id`` differs from its folder is rejected (``channel_mismatch``).

A cell that does not parse as its column's type rejects its row with ``not_an_integer``,
``not_a_number``, ``not_a_boolean``, ``not_a_date`` or ``not_a_timestamp``; the remaining
rules are the entity's contract (:mod:`assets.ingest.contracts`).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import polars as pl

from assets.ingest.adapters.base import LINE, Adapter, AdapterContext, Mapped
from assets.model import ENTITIES, Entity

ORDERS_FOLDER = "orders"
CANONICAL_ORDER_GLOBS = ("*.canonical.csv", "*.canonical.parquet")
GENERIC_GLOBS = ("*.csv", "*.parquet")

_INT = r"^[+-]?\d+(\.0+)?$"  # "3.0" is what a float-typed Parquet column prints
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_TRUE = ("true", "t", "1", "yes", "y")
_FALSE = ("false", "f", "0", "no", "n")
_ZONE = r"(Z|z|[+-]\d{2}(:?\d{2})?)$"

_TYPE_RULES = {
    "BIGINT": ("not_an_integer", "a whole number"),
    "INTEGER": ("not_an_integer", "a whole number"),
    "DOUBLE": ("not_a_number", "a number with '.' as decimal point"),
    "BOOLEAN": ("not_a_boolean", "true or false"),
    "DATE": ("not_a_date", "a date YYYY-MM-DD"),
    "TIMESTAMP": ("not_a_timestamp", "an ISO 8601 timestamp"),
}


@dataclass(frozen=True)
class GenericAdapter(Adapter):
    """An :class:`Adapter` whose header may hold only ``allowed_columns`` (checked by the
    reader, ``unexpected_columns``)."""

    allowed_columns: tuple[str, ...] = ()


def _text(expr: pl.Expr) -> pl.Expr:
    value = expr.str.strip_chars(" \t\r\n\u00a0")
    return pl.when(value == "").then(None).otherwise(value)


def iso_timestamp(expr: pl.Expr) -> pl.Expr:
    """ISO 8601 text → naive UTC ``Datetime("us")``; null when it is not one.

    With an offset (``Z``, ``+02:00``, ``-0500``) the instant is converted to UTC; without
    one the wall time is taken as UTC; a bare date is midnight UTC.
    """
    t = _text(expr).str.replace(" ", "T", literal=True)
    zoned = (
        t.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%#z", strict=False, time_unit="us", time_zone="UTC")
        .dt.replace_time_zone(None)
    )
    naive = t.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
    day = t.str.to_date("%Y-%m-%d", strict=False).cast(pl.Datetime("us"))
    return (
        pl.when(t.str.contains(r"T.*" + _ZONE))
        .then(zoned)
        .otherwise(pl.coalesce(naive, day))
        .cast(pl.Datetime("us"))
    )


def parse_column(expr: pl.Expr, sql_type: str) -> pl.Expr:
    """Text → the canonical type of a column (null when the text does not parse)."""
    text = _text(expr)
    if sql_type in ("BIGINT", "INTEGER"):
        return (
            pl.when(text.str.contains(_INT))
            .then(text.str.replace(r"\.0+$", "").cast(pl.Int64, strict=False))
            .cast(pl.Int64 if sql_type == "BIGINT" else pl.Int32, strict=False)
        )
    if sql_type == "DOUBLE":
        return pl.when(text.str.contains(_NUMBER)).then(text.cast(pl.Float64, strict=False))
    if sql_type == "BOOLEAN":
        low = text.str.to_lowercase()
        return pl.when(low.is_in(_TRUE)).then(True).when(low.is_in(_FALSE)).then(False)
    if sql_type == "DATE":
        return text.str.to_date("%Y-%m-%d", strict=False)
    if sql_type == "TIMESTAMP":
        return iso_timestamp(expr)
    return text


def map_generic(entity: Entity, frame: pl.DataFrame, ctx: AdapterContext) -> Mapped:
    """All-text generic rows → typed canonical rows, plus type rejects (vectorised)."""
    present = set(frame.columns)
    fills: dict[str, pl.Expr] = {}
    if entity.name == "order_lines":
        folder_channel = pl.lit(ctx.channel_id, dtype=pl.String)
        if "channel_id" not in present:
            fills["channel_id"] = folder_channel
        if "sku" not in present and "channel_sku" in present:
            fills["sku"] = _text(pl.col("channel_sku"))
    typed = frame.select(
        pl.col(LINE),
        *[
            (
                parse_column(pl.col(c.name), c.sql_type)
                if c.name in present
                else fills.get(c.name, pl.lit(None))
            )
            .cast(c.polars_dtype)
            .alias(c.name)
            for c in entity.columns
        ],
    )
    rejects = []
    for col in entity.columns:
        if col.name not in present or col.sql_type not in _TYPE_RULES:
            continue
        rule, wanted = _TYPE_RULES[col.sql_type]
        bad = _text(pl.col(col.name)).is_not_null() & typed.get_column(col.name).is_null()
        hit = frame.filter(bad)
        if hit.height:
            rejects.append(
                hit.select(
                    pl.col(LINE),
                    pl.lit(rule).alias("rule"),
                    pl.format(
                        "{} '{}' is not {} [{}]",
                        pl.lit(col.name),
                        pl.col(col.name).str.slice(0, 60),
                        pl.lit(wanted),
                        pl.lit(rule),
                    ).alias("message"),
                )
            )
    if entity.name == "order_lines" and ctx.channel_id and "channel_id" in present:
        hit = typed.filter(pl.col("channel_id") != ctx.channel_id)
        if hit.height:
            rejects.append(
                hit.select(
                    pl.col(LINE),
                    pl.lit("channel_mismatch").alias("rule"),
                    pl.format(
                        "channel_id '{}' differs from the folder orders/{}/ [channel_mismatch]",
                        pl.col("channel_id"),
                        pl.lit(ctx.channel_id),
                    ).alias("message"),
                )
            )
        typed = typed.with_columns(
            channel_id=pl.coalesce(pl.col("channel_id"), pl.lit(ctx.channel_id))
        )
    schema = {LINE: pl.Int64, "rule": pl.String, "message": pl.String}
    rejected = pl.concat(rejects) if rejects else pl.DataFrame(schema=schema)
    return Mapped(rows=typed, rejects=rejected.cast(schema))


def _adapter(entity: Entity) -> GenericAdapter:
    is_orders = entity.name == "order_lines"
    optional_in_header = {"channel_id", "sku"} if is_orders else set()
    required = tuple(
        c.name for c in entity.columns if c.required and c.name not in optional_in_header
    )
    return GenericAdapter(
        name=f"generic_{entity.name}",
        entity=entity.name,
        folder=ORDERS_FOLDER if is_orders else entity.name,
        file_globs=CANONICAL_ORDER_GLOBS if is_orders else GENERIC_GLOBS,
        required_columns=required,
        map=partial(map_generic, entity),
        allowed_columns=tuple(entity.column_names),
        doc=f"Generic canonical {entity.name}: {entity.doc}",
    )


# one adapter per canonical entity, in ENTITIES order (data, not code per entity)
GENERIC_ADAPTERS: list[GenericAdapter] = [_adapter(e) for e in ENTITIES.values()]
