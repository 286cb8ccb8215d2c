"""What an adapter is: one export format → rows of one canonical entity.

The ingestion engine (``assets/ingest/engine.py``) owns everything generic: finding files,
sha256 manifest, decoding (BOM, Latin-1 fallback), CSV parsing into all-text columns with the
physical ``source_line`` of each record, the pandera contract of the canonical entity,
quarantine, landing in ``raw`` and merging into ``core``.

An adapter owns only what is specific to its format:
- how to recognise its files (file-name globs and the header columns it requires),
- how to read them (delimiter, rows to skip, trailer rows to drop),
- how its columns map to the canonical entity (a Polars transformation, no row loops),
- which of its columns hold customer identity (these never land anywhere, not even in
  quarantine),
- and, for demo data and round-trip tests, how to *write* a file in its format.

Adapters are data: a list in ``assets/ingest/adapters/__init__.py`` (``ADAPTERS``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Callable

import polars as pl

# The column the engine adds to every parsed frame: the 1-based physical line where the
# record starts (a quoted newline makes a record span several lines).
LINE = "source_line"

# The column the engine adds when it maps many files of one folder in one ``map`` call: the
# file each record comes from (its path relative to the inbox, what ``source_file`` records).
# Records of different files also have different ``source_line`` values within a call (the
# engine offsets them), but an adapter that groups rows within a file (order fields on an
# order's first row, line positions, duplicate lines) must group by this column as well:
# ``#1001`` in Monday's export and ``#1001`` in Tuesday's are two exports of an order, not
# one. A frame without the column (one file, as in the adapter tests) is one file:
# :func:`with_file` adds it then.
FILE = "source_file"

# Columns of the frame the demo generator hands to an order format's writer: the canonical
# order_lines columns plus what real exports carry and the warehouse must never keep or
# must derive (customer identity, full address, order-level amounts, product title).
ORDER_EXPORT_EXTRA = (
    "customer_id",  # the channel's own customer id
    "customer_name",
    "customer_email",
    "ship_address1",
    "ship_city",
    "ship_region",
    "ship_postal_code",
    "ship_country",
    "shipping_amount",  # order level, order currency
    "tax_amount",  # order level, order currency
    "discount_amount",  # line level, order currency
    "product_name",
    "carrier",
    "tracking_number",
)


def canonical_header(header: list[str], adapter: "Adapter") -> list[str]:
    """``header`` with every known spelling renamed to its canonical name.

    A name matches a canonical name of :attr:`Adapter.header_aliases` or one of its variants
    when they are equal after trimming and case-folding (names without declared variants
    are matched exactly, as before). A canonical name already present exactly is left alone,
    and a variant is not renamed onto it (a file with both keeps both). Unknown names are
    kept as they are.
    """
    spellings: dict[str, str] = {}
    for canonical in adapter.header_aliases:
        for name in (canonical, *adapter.header_aliases.get(canonical, ())):
            spellings.setdefault(name.strip().casefold(), canonical)
    present = set(header)
    out = []
    for name in header:
        canonical = spellings.get(name.strip().casefold())
        if canonical is None or canonical == name or canonical in present:
            out.append(name)
        else:
            out.append(canonical)
            present.add(canonical)
    return out


def with_file(frame: pl.DataFrame) -> pl.DataFrame:
    """``frame`` with the :data:`FILE` column (null, i.e. one file, when it has none)."""
    if FILE in frame.columns:
        return frame
    return frame.with_columns(pl.lit(None, dtype=pl.String).alias(FILE))


@dataclass(frozen=True)
class AdapterContext:
    """What an adapter knows about the files it maps.

    The engine maps many files of one folder in one call: ``channel_id``, ``location_id``,
    ``pii_salt`` and ``postal_prefix_chars`` are the same for all of them; ``path``,
    ``relative_path`` and ``export_date`` describe the first file of the call. What differs
    per file is the :data:`FILE` column of the frame.
    """

    path: Path  # the file
    relative_path: str  # path relative to the inbox: what `source_file` records
    channel_id: str | None  # for orders: the folder under inbox/orders/
    location_id: str | None  # for per-location folders (stock snapshots, ...)
    pii_salt: str
    postal_prefix_chars: int
    export_date: date | None  # parsed from the file name when it carries one


@dataclass(frozen=True)
class Mapped:
    """An adapter's result.

    ``rows``: the canonical entity columns (typed; a value that failed to parse is null) and
    ``source_line``. ``rejects``: rows the adapter itself refuses, as (``source_line``,
    ``rule``, ``message``); the engine quarantines those records whole and drops them from
    ``rows`` if they are there. One record may yield several canonical rows (a Shopify line
    and its order) or none; every record read ends either in ``rows`` or in ``rejects``.
    """

    rows: pl.DataFrame
    rejects: pl.DataFrame = field(
        default_factory=lambda: pl.DataFrame(
            schema={LINE: pl.Int64, "rule": pl.String, "message": pl.String}
        )
    )


@dataclass(frozen=True)
class Adapter:
    name: str  # e.g. "shopify_orders"
    entity: str  # canonical entity, a key of assets.model.ENTITIES
    folder: str  # inbox sub-folder the files live in, e.g. "orders"
    file_globs: tuple[str, ...]  # matched against the file name, e.g. ("orders_export*.csv",)
    required_columns: tuple[str, ...]  # header names that identify the format
    map: Callable[[pl.DataFrame, AdapterContext], Mapped]
    separator: str = ","
    # the character that quotes a field holding the separator, a quote or a newline (RFC 4180:
    # `"`); None for formats that never quote (Amazon's flat files): a `"` is then an ordinary
    # character, and a stray one cannot swallow the records after it
    quote_char: str | None = '"'
    skip_rows: int = 0  # rows before the header (eBay puts a blank line first)
    pii_columns: tuple[str, ...] = ()
    # The columns whose text may appear in quarantine rows and messages (an allow-list:
    # everything else, however it is spelled, is dropped before anything is written).
    # None: the required columns minus ``pii_columns`` (see :func:`safe_columns`).
    safe_columns: tuple[str, ...] | None = None
    # how the format writes numbers: the decimal mark ("." or ",") and the thousands mark
    # ("," "." " " "'" or "" for none). A number that reads differently under the other
    # convention ("2,5" when "." is the decimal mark) is refused, never guessed. A channel
    # may override both in shelfwise.toml ([ingest.number_format]).
    decimal_mark: str = "."
    thousands_mark: str = ","
    # drop rows whose first column matches (report trailers like "12 record(s) downloaded")
    trailer_pattern: str | None = None
    # reject rules that mark records the format carries but that are not data (eBay's order
    # summary rows): the engine counts them as skipped (`rows_skipped`), not as quarantined
    skip_rules: tuple[str, ...] = ()
    # order formats whose every file carries EVERY line of each order it lists (a whole-order
    # export: Shopify, Amazon, eBay, Etsy). The latest export of an order then owns its lines:
    # a line an earlier file had and the later export lacks leaves core (see merge.py). False:
    # a file may carry some lines of an order only, and each line stands on its own.
    whole_orders: bool = False
    # header variants as data: canonical header name -> other spellings the platform has used
    # (Etsy's UK/CA/AU wording, older exports). The reader renames a present variant (trimmed,
    # compared case-insensitively) to the canonical name before the required-columns check,
    # so ``map``, ``pii_columns`` and quarantine only ever see the canonical names.
    header_aliases: dict[str, tuple[str, ...]] = field(default_factory=dict, hash=False)
    write: Callable[[pl.DataFrame, Path], None] | None = None
    # ``write`` for many files in one call: each row names its file in the FILE column
    # (the demo generator writes a week of daily exports at once)
    write_many: Callable[[pl.DataFrame], None] | None = None
    doc: str = ""


def customer_key(values: pl.Series, salt: str) -> pl.Series:
    """Salted SHA-256 key of a customer identity (email or channel id), lower-cased, trimmed.

    Hashes each distinct value once (exports repeat customers), so the cost follows the
    number of customers, not rows. Empty identities give null.
    """
    clean = values.cast(pl.String).str.strip_chars().str.to_lowercase()
    uniques = clean.drop_nulls().unique()
    uniques = uniques.filter(uniques != "")
    digests = [
        hashlib.sha256(f"{salt}\x1f{v}".encode()).hexdigest()[:32] for v in uniques.to_list()
    ]
    lookup = pl.DataFrame({"v": uniques, "k": digests}, schema={"v": pl.String, "k": pl.String})
    return (
        pl.DataFrame({"v": clean})
        .join(lookup, on="v", how="left", maintain_order="left")
        .get_column("k")
        .alias("customer_key")
    )


def postal_prefix(values: pl.Series | pl.Expr, chars: int):
    """First ``chars`` letters/digits of a postal code, upper-case (enough for regions)."""
    return (
        values.cast(pl.String)
        .str.replace_all(r"[^0-9A-Za-z]", "")
        .str.to_uppercase()
        .str.slice(0, chars)
    )


def safe_columns(adapter: "Adapter") -> frozenset[str]:
    """Header names whose cells may be written to quarantine rows and messages.

    The adapter's ``safe_columns`` when declared; else its required columns (and, for the
    generic formats, their allowed columns: canonical names that hold no identity) and every
    known spelling of them (``header_aliases`` where an adapter declares them), minus
    ``pii_columns``. Columns an adapter does not know are never safe: an identity column
    renamed, padded or translated is unknown, so it is dropped.
    """
    if adapter.safe_columns is not None:
        return frozenset(adapter.safe_columns) - set(adapter.pii_columns)
    names = set(adapter.required_columns) | set(getattr(adapter, "allowed_columns", ()) or ())
    aliases = getattr(adapter, "header_aliases", None) or {}
    if isinstance(aliases, dict):
        for canonical, spellings in aliases.items():
            if canonical in names:
                names |= {spellings} if isinstance(spellings, str) else set(spellings)
    return frozenset(names) - set(adapter.pii_columns)
