"""What every channel order adapter shares: the canonical frame, status rules, writer helpers.

Mapping side: adapters build their columns with :mod:`assets.ingest.parse` and end with
:func:`finish`, which adds the derived columns (``updated_at``, the customer key, the
postal prefix), casts to the ``order_lines`` schema and keeps ``source_line``.

Writing side (demo data and round-trip tests): the generator hands an "export rows" frame
(canonical ``order_lines`` columns plus ``base.ORDER_EXPORT_EXTRA``); the helpers here
format its UTC times in a channel's zone, money with symbols and thousands separators, and
write the bytes deterministically (same frame → same file, byte for byte).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

import polars as pl

from assets.ingest.adapters.base import (
    FILE,
    LINE,
    Adapter,
    canonical_header,
    customer_key,
    postal_prefix,
)
from assets.ingest.parse import COUNTRY_NAMES, blank_to_null
from assets.model import ENTITIES

SCHEMA: dict[str, pl.DataType] = ENTITIES["order_lines"].polars_schema
TIMES = ("ordered_at", "paid_at", "cancelled_at", "shipped_at", "delivered_at")

# ISO-2 → the name exports print (the first name listed for the code in COUNTRY_NAMES,
# title-cased, with the usual exceptions), for formats that write country names.
_NAME_OVERRIDES = {"US": "United States", "GB": "United Kingdom", "IE": "Ireland"}
COUNTRY_DISPLAY: dict[str, str] = {}
for _name, _code in COUNTRY_NAMES.items():
    if len(_name) > 3 and _code not in COUNTRY_DISPLAY:
        COUNTRY_DISPLAY[_code] = _name.title()
COUNTRY_DISPLAY.update(_NAME_OVERRIDES)


def finish(
    frame: pl.DataFrame,
    *,
    customer_identity: pl.Expr | None,
    postal_code: pl.Expr | None,
    postal_chars: int,
    salt: str,
) -> pl.DataFrame:
    """The canonical ``order_lines`` frame (schema order and dtypes) plus ``source_line``.

    ``frame`` holds the adapter's canonical columns (missing optional ones become null) and
    the raw columns the expressions read. ``customer_identity`` is the text to hash (email,
    else the channel's buyer id): it is hashed here and never leaves as text.
    ``postal_code`` is reduced to its first ``postal_chars`` letters/digits.
    ``updated_at`` is the latest lifecycle time the row knows unless the adapter set it
    (Amazon reports its own ``last-updated-date``); a row without any time keeps null and
    the contract rejects it.
    """
    if customer_identity is not None:
        keys = customer_key(frame.select(customer_identity.alias("v")).to_series(), salt)
        frame = frame.with_columns(keys.alias("customer_key"))
    if postal_code is not None:
        frame = frame.with_columns(
            ship_postal_prefix=pl.when(blank_to_null(postal_code).is_not_null()).then(
                postal_prefix(postal_code, postal_chars)
            )
        )
    missing = [c for c in (*SCHEMA, "updated_at") if c not in frame.columns]
    frame = frame.with_columns(pl.lit(None).alias(c) for c in missing if c != "updated_at")
    latest = pl.max_horizontal([pl.col(c).cast(pl.Datetime("us")) for c in TIMES])
    if "updated_at" in missing:
        frame = frame.with_columns(updated_at=latest)
    else:
        frame = frame.with_columns(updated_at=pl.coalesce(pl.col("updated_at"), latest))
    return frame.select(
        *[pl.col(c).cast(t) for c, t in SCHEMA.items()], pl.col(LINE).cast(pl.Int64)
    )


def allocate_cents(
    frame: pl.DataFrame,
    *,
    total: str,
    weight: str,
    by: list[str],
    out: str,
    order_by: str = LINE,
    decimals: int = 2,
) -> pl.DataFrame:
    """Split an order-level amount over the order's lines, pro rata, conserving the cents.

    ``total``: the amount to split (an order's discount), read from the group's first row
    that has it; ``weight``: each line's value (quantity × price), the share key; a row whose
    weight is null takes no part (it gets a null share: a skipped tip line). ``by``: the
    group (source file + order id). ``out``: the new column, the line's share in the same
    unit as ``total``, rounded to ``decimals``.

    Largest-remainder method in integer cents (Int128, no overflow): every line gets
    ⌊total × weight / Σweight⌋ cents, and the cents left over go one each to the lines with
    the largest remainders (ties: the earlier line by ``order_by``). So the shares sum to the
    total exactly, and when ``total`` ≤ Σweight no share exceeds its line's value (no line
    goes negative after the discount). A group whose weights are all 0 splits evenly.
    A negative total is split by its absolute value and keeps its sign.
    """
    scale = 10**decimals
    part = pl.col(weight).is_not_null()
    cents = (pl.col(total).cast(pl.Float64) * scale).round(0).cast(pl.Int128)
    t = cents.drop_nulls().first().over(by).fill_null(0)
    w = pl.when(part).then(
        (pl.col(weight).cast(pl.Float64) * scale).round(0).cast(pl.Int128).clip(0)
    )
    df = frame.with_columns(_t=t, _w=w).with_columns(
        _w=pl.when(pl.col("_w").sum().over(by) == 0).then(pl.when(part).then(1)).otherwise(
            pl.col("_w")
        ).cast(pl.Int128)
    )
    num = pl.col("_t").abs() * pl.col("_w")
    wsum = pl.col("_w").sum().over(by)
    df = df.with_columns(_base=num // wsum, _rem=num % wsum).with_columns(
        _left=pl.col("_t").abs() - pl.col("_base").sum().over(by),
        # largest remainder first (Σw − remainder ascending), then the earlier line
        _rank=pl.when(part).then(
            pl.int_range(1, pl.len() + 1).over(by, order_by=[wsum - pl.col("_rem"), order_by])
        ),
    )
    share = (pl.col("_base") + (pl.col("_rank") <= pl.col("_left")).cast(pl.Int128)) * pl.col(
        "_t"
    ).sign()
    return df.with_columns(
        pl.when(part).then(share.cast(pl.Float64) / scale).alias(out)
    ).drop("_t", "_w", "_base", "_rem", "_left", "_rank")


def empty_rejects() -> pl.DataFrame:
    return pl.DataFrame(schema={LINE: pl.Int64, "rule": pl.String, "message": pl.String})


def combine_rejects(*frames: pl.DataFrame) -> pl.DataFrame:
    """All rejects, one per record: the first rule that fired wins (rules listed in order)."""
    parts = [f for f in frames if f.height]
    if not parts:
        return empty_rejects()
    return pl.concat(parts, how="vertical").unique(subset=[LINE], keep="first", maintain_order=True)


def without(rows: pl.DataFrame, rejects: pl.DataFrame) -> pl.DataFrame:
    """``rows`` minus the records that were rejected (the engine would drop them too)."""
    if rejects.height == 0:
        return rows
    return rows.join(rejects.select(LINE), on=LINE, how="anti")


# ----------------------------------------------------------------------------- writing


def local_text(expr: pl.Expr, fmt: str, tz: str) -> pl.Expr:
    """A naive-UTC timestamp as wall-clock text in ``tz`` (``%z`` prints the offset)."""
    return (
        expr.cast(pl.Datetime("us"))
        .dt.replace_time_zone("UTC")
        .dt.convert_time_zone(tz)
        .dt.strftime(fmt)
    )


def money_text(
    expr: pl.Expr, *, symbol: str = "", thousands: bool = False, decimals: int = 2
) -> pl.Expr:
    """A number as exports print it: fixed decimals, optional symbol and thousands commas.

    ``-1234.5`` with ``symbol="$", thousands=True`` → ``"-$1,234.50"``; null stays null.
    Rounded half away from zero in integer cents, so the text is exact.
    """
    scale = 10**decimals
    cents = (expr.cast(pl.Float64) * scale).round(0).cast(pl.Int64)
    whole = (cents.abs() // scale).cast(pl.String)
    if thousands:
        whole = (
            whole.str.reverse().str.replace_all(r"(\d{3})", "${1},").str.reverse()
            .str.strip_prefix(",")
        )
    frac = (cents.abs() % scale).cast(pl.String).str.zfill(decimals)
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    text = sign + pl.lit(symbol) + whole + (pl.lit(".") + frac if decimals else pl.lit(""))
    return pl.when(expr.is_null()).then(None).otherwise(text)


def country_name(expr: pl.Expr) -> pl.Expr:
    """ISO-2 → the country name exports print (unknown codes are written as the code)."""
    return expr.replace_strict(COUNTRY_DISPLAY, default=expr, return_dtype=pl.String)


def order_rows(frame: pl.DataFrame) -> pl.DataFrame:
    """Export rows in a stable order: by file (when the frame has :data:`FILE`), by order,
    then line (numeric line ids numerically).

    Positional formats (Shopify, Square) derive the line id from this order, so a frame
    whose line ids are 1..n per order round-trips exactly.
    """
    keys = ([FILE] if FILE in frame.columns else []) + ["order_id", "_line_num", "line_id"]
    return frame.with_columns(
        _line_num=pl.col("line_id").cast(pl.String).str.to_integer(strict=False)
    ).sort(keys, nulls_last=True, maintain_order=True).drop("_line_num")


def targeted(frame: pl.DataFrame, path: Path) -> pl.DataFrame:
    """``frame`` with every row aimed at ``path`` (the :data:`FILE` column of ``write_many``)."""
    return frame.with_columns(pl.lit(str(path), dtype=pl.String).alias(FILE))


def targets(frame: pl.DataFrame) -> list[str]:
    """The files a ``write_many`` frame asks for, in order of first appearance."""
    return frame.get_column(FILE).unique(maintain_order=True).to_list()


def csv_parts(
    out: pl.DataFrame, *, separator: str = ",", quote_style: str = "necessary"
) -> tuple[str, dict[str, str]]:
    """CSV of a frame whose rows go to several files, written once and cut per file.

    ``out``: the output columns plus :data:`FILE`; each file's rows together, in order.
    Returns the header line (no newline) and each file's body (its rows, each line ending
    in ``\n``). One ``write_csv`` for the whole frame instead of one per file: a value with
    a newline (quoted) spans several physical lines, so the cut counts them per row.
    """
    cols = [c for c in out.columns if c != FILE]
    text = out.select(cols).write_csv(
        separator=separator, quote_style=quote_style, null_value="", line_terminator="\n"
    )
    header, _, body = text.partition("\n")
    strings = [c for c in cols if out.schema[c] == pl.String]
    per_row = pl.lit(1, dtype=pl.Int64)
    if strings:
        per_row = per_row + pl.sum_horizontal(
            pl.col(c).str.count_matches("\n", literal=True).fill_null(0) for c in strings
        )
    runs = (
        out.select(FILE, per_row.alias("_n"))
        .with_columns(_run=(pl.col(FILE) != pl.col(FILE).shift()).fill_null(True).cum_sum())
        .group_by("_run", maintain_order=True)
        .agg(pl.col(FILE).first(), pl.col("_n").sum())
    )
    lines = body.split("\n")
    parts: dict[str, str] = {}
    start = 0
    for name, n in runs.select(FILE, "_n").iter_rows():
        if name in parts:
            raise ValueError(f"rows of {name} are not together")
        parts[name] = "".join(line + "\n" for line in lines[start : start + n])
        start += n
    return header, parts


def write_csv_files(
    out: pl.DataFrame,
    files: list[str],
    *,
    separator: str = ",",
    quote_style: str = "necessary",
    bom: bool = False,
) -> None:
    """Write each of ``files`` as header + its rows of ``out`` (a file without rows gets
    the header alone), as :func:`csv_text` would write each file's rows."""
    header, parts = csv_parts(out, separator=separator, quote_style=quote_style)
    for name in files:
        write_text(Path(name), header + "\n" + parts.get(name, ""), bom=bom)


def write_text(path: Path, text: str, *, bom: bool = False) -> None:
    """Write ``text`` as UTF-8 (optionally with a BOM) via a temporary name and a rename."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(("\ufeff" if bom else "").encode() + text.encode("utf-8"))
    os.replace(tmp, path)


def csv_text(frame: pl.DataFrame, *, separator: str = ",", quote_style: str = "necessary") -> str:
    """CSV text of ``frame`` (header included, ``\\n`` line ends, nulls as empty cells).

    ``quote_style``: ``"necessary"`` (RFC 4180), ``"always"`` (eBay quotes most cells) or
    ``"never"`` (Amazon's flat files: tab-separated, never quoted).
    """
    return frame.write_csv(
        separator=separator,
        quote_style=quote_style,
        null_value="",
        line_terminator="\n",
    )


def col_or_null(frame: pl.DataFrame, name: str, dtype: pl.DataType = pl.String) -> pl.Expr:
    """``pl.col(name)`` when the export frame has it, else a typed null (optional extras)."""
    return pl.col(name) if name in frame.columns else pl.lit(None, dtype=dtype)


# ----------------------------------------------------------------------------- header variants


def canonical_headers(frame: pl.DataFrame, adapter: Adapter) -> pl.DataFrame:
    """``frame`` with every spelling of ``adapter.header_aliases`` renamed to its canonical
    name, as the reader renames a file's header (:func:`base.canonical_header`). The reader
    has done it already for a file; an adapter's ``map`` calls this for frames built
    elsewhere (tests, the batch path) so that both see one set of names."""
    names = canonical_header(list(frame.columns), adapter)
    return frame.rename(dict(zip(frame.columns, names))) if names != frame.columns else frame


def case_variants(names: Iterable[str]) -> tuple[str, ...]:
    """``names`` plus their sentence-case and lower-case spellings (``Buyer Email``,
    ``Buyer email``, ``buyer email``), in order, without repeats.

    For identity columns: the engine drops them by the header as written in the file, and
    eBay's UK Seller Hub writes ``Buyer email`` where the US one writes ``Buyer Email``.
    """
    out: dict[str, None] = {}
    for name in names:
        out.update(dict.fromkeys((name, name[:1].upper() + name[1:].lower(), name.lower())))
    return tuple(out)


# ----------------------------------------------------------------------------- keys


def fallback_sku(prefix: str, item: pl.Expr, variation: pl.Expr | None = None) -> pl.Expr:
    """The channel SKU of a line whose export has no SKU: ``<prefix>:<item>`` or
    ``<prefix>:<item>|<variation>`` (inner whitespace collapsed; null without an item).

    Stable for a listing across exports, so one ``core.channel_listings`` row (this key as
    ``channel_sku``, the SKU as ``sku``) maps every sale of it; the contract's
    ``unknown_sku`` message names the row to add.
    """
    base = blank_to_null(item).str.replace_all(r"\s+", " ")
    if variation is None:
        return pl.lit(f"{prefix}:") + base
    var = blank_to_null(variation).str.replace_all(r"\s+", " ")
    return pl.when(base.is_null()).then(None).when(var.is_null()).then(
        pl.lit(f"{prefix}:") + base
    ).otherwise(pl.lit(f"{prefix}:") + base + pl.lit("|") + var)


def content_line_id(item_key: pl.Expr, group: list[str]) -> pl.Expr:
    """A line id from the line's content, for exports without a line id of their own:
    ``<item key>#<n>``, n counting the lines of the same item in the same order (``group``
    names the order's columns) in file order.

    Removing one line of an order leaves the other lines' ids unchanged (a position would
    shift them onto other SKUs); only a repeated item renumbers its later repeats.
    """
    n = pl.int_range(1, pl.len() + 1).over([*group, item_key], order_by=LINE)
    return item_key + pl.lit("#") + n.cast(pl.String)
