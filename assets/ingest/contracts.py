"""Data contracts of the canonical entities, built from ``assets.model.ENTITIES``.

One list of :class:`Rule` per entity is the contract. It is derived from the model (types,
required columns, enums) plus a few tables below (which quantities must be positive, which
amounts non-negative, which columns are currencies or SKU references), and it is used twice:

- :func:`pandera_schema` turns the rules into a ``pandera.polars.DataFrameSchema`` (one named
  ``pa.Check`` per rule, ``nullable=False`` for required columns): the documented, reusable
  contract, e.g. for tests and notebooks;
- :func:`validate` evaluates the very same rule expressions as one Polars ``select`` and is
  what the ingestion engine runs. On 1M order lines pandera's lazy validation costs far more
  than the plain expressions (numbers in docs/ingestion.md), mostly because it materialises
  every check and its failure cases separately; both paths give identical findings
  (tests/ingest/test_contracts.py checks that).

A rule is *bad-value* predicate on one column; nulls never break a rule other than
``missing_value`` (an optional column may be empty). Rule names are stable snake_case; each
rejected row gets a message naming the column, the value and the rule.

Rules: ``missing_value``, ``not_in_allowed_values``, ``quantity_not_positive``,
``zero_quantity``, ``negative_stock``, ``negative_amount``, ``negative_value``,
``rate_not_positive``, ``value_out_of_range``, ``not_finite``, ``date_out_of_range``,
``timestamp_out_of_range``, ``timestamp_in_future``, ``invalid_currency_code``,
``unknown_currency``, ``unknown_sku``, ``text_too_long``, ``formula_injection``,
``invalid_characters``, ``implausible_value``, and the frame-level ``conflicting_duplicate``.

Plausibility: a quantity above :attr:`References.max_quantity` or an amount above
:attr:`References.max_amount` (``[ingest] max_quantity`` / ``max_amount`` in
shelfwise.toml) is ``implausible_value``: 1e308 parses as a number, but no shop sells it.

Formula prefixes (``=``, ``+``, ``@``, tab, CR) are refused in identifiers and codes (a SKU,
an order id, a currency), where no real value starts so and the text flows into feeds and
file names; free text (names, descriptions, notes, reasons) keeps them: ``"@home mug"`` and
``"=Equals tee"`` are product names, and neutralising formulas is the business of the files
shelfwise writes for others (docs/ingestion.md), not of ingest.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone

from typing import TYPE_CHECKING

import polars as pl

from assets.ingest.adapters.base import LINE
from assets.model import ENTITIES, Entity

if TYPE_CHECKING:  # pandera (and pandas with it) costs ~1.3 s to import: only where used
    import pandera.polars as pa

# Business dates and timestamps before this are typos or epoch defaults (1970-01-01).
MIN_DATE = date(2000, 1, 1)
# A text cell longer than this is not an identifier or a name: a broken export or an attack.
MAX_TEXT_CHARS = 1000
# A cell starting with one of these is a spreadsheet formula (CSV/formula injection).
FORMULA_PREFIX = r"^[=+@\t\r]"
# Control characters (newline allowed: a quoted multi-line note is legitimate), zero-width
# and bidirectional-override characters: they make two identical-looking SKUs differ.
INVALID_CHARS = r"[\x00-\x09\x0b-\x1f\x7f\u200b-\u200f\u202a-\u202e\u2060-\u2064\ufeff]"

# (entity, column) -> rule for numeric ranges
POSITIVE_QUANTITIES = {
    ("order_lines", "quantity"),
    ("receipts", "quantity_received"),
    ("purchase_orders", "quantity_ordered"),
    ("fulfillment_events", "quantity"),
    ("returns", "quantity"),
    ("bundle_components", "units_per_bundle"),
    ("products", "case_pack"),
}
NON_NEGATIVE_STOCK = {("stock_snapshots", "on_hand"), ("stock_snapshots", "reserved")}
AMOUNTS = {
    ("order_lines", "unit_price"),
    ("order_lines", "line_amount"),
    ("order_lines", "order_shipping_amount"),
    ("order_lines", "order_discount_amount"),
    ("returns", "refund_amount"),
    ("purchase_orders", "unit_cost"),
    ("products", "unit_cost"),
    ("products", "list_price"),
    ("suppliers", "min_order_value"),
}
NON_NEGATIVE = {
    ("products", "moq"),
    ("products", "lead_time_days"),
    ("suppliers", "lead_time_days_mean"),
    ("suppliers", "lead_time_days_sd"),
    ("suppliers", "review_period_days"),
    ("channels", "safety_buffer_units"),
    ("channel_listings", "listed_quantity"),
    ("channel_locations", "priority"),
}
SHARES = {("channels", "safety_buffer_pct")}  # 0..1
RATES = {("fx_rates", "rate_to_base")}
SIGNED_NONZERO = {("stock_adjustments", "quantity")}
SKU_COLUMNS = ("sku", "bundle_sku", "component_sku")
# free text: a leading =, +, @ is data here (neutralised where shelfwise writes files)
FREE_TEXT_SUFFIXES = ("name", "description", "notes", "note", "reason", "title", "address")
# plausibility bounds (defaults of [ingest] max_quantity / max_amount)
DEFAULT_MAX_QUANTITY = 1_000_000
DEFAULT_MAX_AMOUNT = 10_000_000.0
QUANTITY_COLUMNS = POSITIVE_QUANTITIES | NON_NEGATIVE_STOCK | SIGNED_NONZERO | {
    ("channel_listings", "listed_quantity")
}
LINE_AMOUNTS = {("order_lines", "line_amount")}  # quantity × price: bounded by both


def is_free_text(column: str) -> bool:
    return column.endswith(FREE_TEXT_SUFFIXES)
# timestamps that announce the future (promises), checked like business dates
FUTURE_TIMESTAMPS = {"promised_ship_by"}


def is_currency_column(name: str) -> bool:
    return name == "currency" or name.endswith("_currency")


@dataclass(frozen=True)
class References:
    """Reference sets the contract checks against (read from ``core`` by the engine).

    ``known_skus``: SKUs of ``core.products`` plus the targets of ``core.channel_listings``
    (an order line's SKU resolves through either). ``currencies``: currencies with FX rates
    plus the base currency. ``None`` (or empty) skips that check, with a message saying so:
    a first load of orders without master data must not quarantine everything.
    """

    known_skus: frozenset[str] | None = None
    currencies: frozenset[str] | None = None
    max_quantity: int = DEFAULT_MAX_QUANTITY
    max_amount: float = DEFAULT_MAX_AMOUNT
    now: datetime = field(
        default_factory=lambda: datetime.now(timezone.utc).replace(tzinfo=None)
    )

    @property
    def today(self) -> date:
        return self.now.date()


@dataclass(frozen=True)
class Rule:
    """One contract rule on one column.

    ``bad(col)`` is a Polars expression, true where the value breaks the rule; it is
    evaluated null-safely (a null result counts as "not broken"). ``fix``, when set, is a
    per-row text appended to the message: how to repair it (needs ``fix_columns``).
    """

    name: str
    column: str
    describe: str  # what a good value looks like, for messages ("must be > 0")
    bad: Callable[[pl.Expr], pl.Expr]
    fix: pl.Expr | None = None
    fix_columns: tuple[str, ...] = ()


@dataclass
class Validation:
    """The outcome of :func:`validate`.

    ``good``: the rows that broke no rule. ``rejects``: one row per rejected *record*
    (``source_file`` when present, ``source_line``, ``rule`` = the first rule it broke in
    contract order, ``message`` = every broken rule, "; "-joined). ``messages``: notes about
    checks that were skipped. A record any of whose canonical rows broke a rule is rejected
    whole (all its rows leave ``good``).
    """

    good: pl.DataFrame
    rejects: pl.DataFrame
    messages: list[str]


def rules_for(entity: Entity | str, refs: References) -> tuple[list[Rule], list[str]]:
    """The contract rules of ``entity`` for these references, and notes on skipped checks."""
    entity = ENTITIES[entity] if isinstance(entity, str) else entity
    rules: list[Rule] = []
    notes: list[str] = []
    max_date = refs.today + timedelta(days=366)
    max_ts = refs.now + timedelta(days=1)
    for col in entity.columns:
        key = (entity.name, col.name)
        if col.required:
            rules.append(Rule("missing_value", col.name, "is required", lambda c: c.is_null()))
        if col.name in entity.enums:
            allowed = list(entity.enums[col.name])
            rules.append(
                Rule(
                    "not_in_allowed_values",
                    col.name,
                    f"must be one of {', '.join(allowed)}",
                    lambda c, a=allowed: ~c.is_in(a),
                )
            )
        if col.sql_type == "VARCHAR":
            rules += [
                Rule(
                    "text_too_long",
                    col.name,
                    f"must be at most {MAX_TEXT_CHARS} characters",
                    lambda c: c.str.len_chars() > MAX_TEXT_CHARS,
                ),
                *([] if is_free_text(col.name) else [Rule(
                    "formula_injection",
                    col.name,
                    "must not start with =, +, @, tab or CR (spreadsheet formula)",
                    lambda c: c.str.contains(FORMULA_PREFIX),
                )]),
                Rule(
                    "invalid_characters",
                    col.name,
                    "must not hold control, zero-width or bidi-override characters",
                    lambda c: c.str.contains(INVALID_CHARS),
                ),
            ]
        if col.sql_type == "DOUBLE":
            rules.append(
                Rule("not_finite", col.name, "must be a finite number", lambda c: ~c.is_finite())
            )
        if key == ("order_lines", "quantity"):
            # channels (Amazon) report a cancelled line with quantity 0: the cancellation is
            # real news about the line and must land, so 0 is allowed on cancelled lines only
            rules.append(
                Rule(
                    "quantity_not_positive",
                    col.name,
                    "must be > 0 (0 only on a cancelled line)",
                    lambda c: (c < 0) | ((c == 0) & (pl.col("status") != "cancelled")),
                )
            )
        elif key in POSITIVE_QUANTITIES:
            rules.append(Rule("quantity_not_positive", col.name, "must be > 0", lambda c: c <= 0))
        if key in QUANTITY_COLUMNS:
            rules.append(Rule(
                "implausible_value", col.name, f"must be at most {refs.max_quantity:,} in size",
                lambda c, hi=refs.max_quantity: c.abs() > hi,
            ))
        elif key in LINE_AMOUNTS or key in AMOUNTS:
            hi = refs.max_amount * (refs.max_quantity if key in LINE_AMOUNTS else 1)
            rules.append(Rule(
                "implausible_value", col.name, f"must be at most {hi:,.0f} in size",
                lambda c, hi=hi: c.abs() > hi,
            ))
        if key in SIGNED_NONZERO:
            rules.append(Rule("zero_quantity", col.name, "must not be 0", lambda c: c == 0))
        if key in NON_NEGATIVE_STOCK:
            rules.append(Rule("negative_stock", col.name, "must be >= 0", lambda c: c < 0))
        if key in AMOUNTS:
            rules.append(Rule("negative_amount", col.name, "must be >= 0", lambda c: c < 0))
        if key in NON_NEGATIVE:
            rules.append(Rule("negative_value", col.name, "must be >= 0", lambda c: c < 0))
        if key in RATES:
            rules.append(Rule("rate_not_positive", col.name, "must be > 0", lambda c: c <= 0))
        if key in SHARES:
            rules.append(
                Rule(
                    "value_out_of_range",
                    col.name,
                    "must be between 0 and 1",
                    lambda c: (c < 0) | (c > 1),
                )
            )
        if col.sql_type == "DATE":
            rules.append(
                Rule(
                    "date_out_of_range",
                    col.name,
                    f"must be between {MIN_DATE} and {max_date}",
                    lambda c, hi=max_date: (c < MIN_DATE) | (c > hi),
                )
            )
        if col.sql_type == "TIMESTAMP" and col.name in FUTURE_TIMESTAMPS:
            # a promise, not an event: may lie ahead like a business date
            rules.append(
                Rule(
                    "timestamp_out_of_range",
                    col.name,
                    f"must be between {MIN_DATE} and {max_date}",
                    lambda c, hi=max_date: (c < datetime(MIN_DATE.year, MIN_DATE.month, MIN_DATE.day))
                    | (c.dt.date() > hi),
                )
            )
        elif col.sql_type == "TIMESTAMP":
            rules += [
                Rule(
                    "timestamp_out_of_range",
                    col.name,
                    f"must be on or after {MIN_DATE}",
                    lambda c: c < datetime(MIN_DATE.year, MIN_DATE.month, MIN_DATE.day),
                ),
                Rule(
                    "timestamp_in_future",
                    col.name,
                    f"must not be after {max_ts:%Y-%m-%d %H:%M} UTC (now + 1 day)",
                    lambda c, hi=max_ts: c > hi,
                ),
            ]
        if is_currency_column(col.name):
            rules.append(
                Rule(
                    "invalid_currency_code",
                    col.name,
                    "must be a 3-letter ISO 4217 code in capitals",
                    lambda c: ~c.str.contains(r"^[A-Z]{3}$"),
                )
            )
            if entity.name == "fx_rates":
                pass  # the FX table defines the known currencies: no self-reference
            elif refs.currencies:
                known = sorted(refs.currencies)
                rules.append(
                    Rule(
                        "unknown_currency",
                        col.name,
                        "must be a currency with FX rates (or the base currency)",
                        lambda c, k=known: ~c.is_in(k),
                    )
                )
            elif col.name == "currency":
                notes.append(f"{entity.name}.{col.name}: no FX rates known, currency checked for form only")
        if col.name in SKU_COLUMNS and entity.name != "products":
            if refs.known_skus:
                skus = pl.Series(sorted(refs.known_skus), dtype=pl.String)
                rules.append(
                    Rule(
                        "unknown_sku",
                        col.name,
                        "must be a SKU of core.products or a channel listing",
                        lambda c, s=skus: ~c.is_in(s.implode()),
                        **(_listing_fix() if entity.name == "order_lines" else {}),
                    )
                )
            else:
                notes.append(
                    f"{entity.name}.{col.name}: no products or listings known yet, SKU "
                    "references not checked"
                )
    return rules, notes


def _listing_fix() -> dict:
    """The exact ``channel_listings`` row that maps an order line's channel SKU (a fallback
    key such as ``item:1234|Red`` when the export had no SKU) to one of our SKUs."""
    key = pl.col("channel_sku").cast(pl.String)
    csv_key = pl.when(key.str.contains(r'[",\n]')).then(
        pl.lit('"') + key.str.replace_all('"', '""', literal=True) + pl.lit('"')
    ).otherwise(key)
    fix = pl.format(
        " (channel SKU '{}': map it with the row '{},{},<your SKU>,<YYYY-MM-DD>' in a file "
        "under inbox/channel_listings/, columns channel_id,channel_sku,sku,as_of)",
        key, pl.col("channel_id"), csv_key,
    )
    return {"fix": fix, "fix_columns": ("channel_id", "channel_sku")}


def _value_text(column: str) -> pl.Expr:
    value = pl.col(column).cast(pl.String)
    shown = pl.when(value.str.len_chars() > 60).then(value.str.slice(0, 57) + "...").otherwise(value)
    return pl.when(value.is_null()).then(pl.lit("<blank>")).otherwise(pl.lit("'") + shown + pl.lit("'"))


def _conflicting_duplicates(frame: pl.DataFrame, entity: Entity) -> pl.DataFrame:
    """Rows whose key appears more than once in one file with different values, for
    entities without a version column (master data, receipts, adjustments).

    Entities with ``version_by`` carry their own history: two rows of a key are versions, and
    the model breaks a tie of equal versions by the later line (exports write a record's
    states in order, e.g. a return requested and received in the same second). Without a
    version column nothing says which row is right, so every such row is rejected. Exact
    repeats are harmless.
    """
    if entity.version_by:
        return frame.clear().select(LINE, *(["source_file"] if "source_file" in frame.columns else []))
    group = list(entity.key)
    group += ["source_file"] if "source_file" in frame.columns else []
    values = [c for c in entity.column_names if c not in group and c in frame.columns]
    if not values or frame.height == 0:
        return frame.clear().select(LINE, *(["source_file"] if "source_file" in frame.columns else []))
    # cheap pass first: only rows whose key repeats need their values compared
    repeated = frame.filter(
        pl.struct(group).is_duplicated()
        & pl.all_horizontal(pl.col(k).is_not_null() for k in entity.key)
    )
    keyed = repeated.select(*group, LINE, pl.struct(values).hash().alias("_h"))
    clash = keyed.filter(pl.col("_h").n_unique().over(group) > 1)
    return clash.select(*(["source_file"] if "source_file" in frame.columns else []), LINE, *entity.key)


def validate(
    frame: pl.DataFrame, entity: Entity | str, refs: References
) -> Validation:
    """Check ``frame`` (canonical columns + ``source_line`` [+ ``source_file``]) against the
    contract of ``entity`` with plain Polars expressions.

    Cost: one pass over the frame for all rules at once, then work in proportion to the bad
    rows only (messages are built for rejected rows, not for every row).
    """
    entity = ENTITIES[entity] if isinstance(entity, str) else entity
    rules, notes = rules_for(entity, refs)
    rid = [pl.col(LINE)] + ([pl.col("source_file")] if "source_file" in frame.columns else [])
    id_cols = [e.meta.output_name() for e in rid]
    present = [r for r in rules if r.column in frame.columns]
    flags = frame.with_row_index("_row").select(
        "_row",
        *[r.bad(pl.col(r.column)).fill_null(False).alias(f"_r{i}") for i, r in enumerate(present)],
    )
    any_bad = pl.any_horizontal(pl.col(f"_r{i}") for i in range(len(present))) if present else pl.lit(False)
    flagged = flags.filter(any_bad)
    parts = []
    if flagged.height:
        bad_rows = frame.with_row_index("_row").join(flagged, on="_row", how="semi")
        bad_rows = bad_rows.join(flagged, on="_row")
        for i, r in enumerate(present):
            hit = bad_rows.filter(pl.col(f"_r{i}"))
            if hit.height:
                message = pl.format(
                    "{} {} {} [{}]", pl.lit(r.column), _value_text(r.column), pl.lit(r.describe), pl.lit(r.name)
                )
                if r.fix is not None and all(c in hit.columns for c in r.fix_columns):
                    message = message + pl.coalesce(r.fix, pl.lit(""))
                parts.append(
                    hit.select(
                        *id_cols,
                        pl.lit(i, dtype=pl.Int32).alias("_order"),
                        pl.lit(r.name).alias("rule"),
                        message.alias("message"),
                    )
                )
    dupes = _conflicting_duplicates(frame, entity)
    if dupes.height:
        key_text = pl.concat_str([pl.col(k).cast(pl.String).fill_null("") for k in entity.key], separator="/")
        parts.append(
            dupes.select(
                *id_cols,
                pl.lit(len(present), dtype=pl.Int32).alias("_order"),
                pl.lit("conflicting_duplicate").alias("rule"),
                (
                    pl.lit(f"key {', '.join(entity.key)} = '")
                    + key_text
                    + pl.lit(
                        "' appears again in this file with different values "
                        "[conflicting_duplicate]"
                    )
                ).alias("message"),
            )
        )
    rejects = _per_record(parts, id_cols)
    good = frame.join(rejects.select(id_cols), on=id_cols, how="anti") if rejects.height else frame
    return Validation(good, rejects, notes)


def _per_record(parts: list[pl.DataFrame], id_cols: list[str]) -> pl.DataFrame:
    schema = {c: (pl.Int64 if c == LINE else pl.String) for c in id_cols} | {
        "rule": pl.String,
        "message": pl.String,
    }
    if not parts:
        return pl.DataFrame(schema=schema)
    every = pl.concat(parts, how="vertical_relaxed").unique().sort([*id_cols, "_order", "message"])
    return every.group_by(id_cols, maintain_order=True).agg(
        pl.col("rule").first(), pl.col("message").unique(maintain_order=True).str.join("; ")
    ).select(list(schema))


# --------------------------------------------------------------------------------------------
# the same contract as a pandera schema


def pandera_schema(entity: Entity | str, refs: References) -> pa.DataFrameSchema:
    """The contract of ``entity`` as a ``pandera.polars.DataFrameSchema``.

    Types come from the model (``coerce=False``: adapters hand over typed frames), required
    columns are ``nullable=False``, and every other rule is a ``pa.Check`` whose ``name`` and
    ``error`` are the rule name, so failure cases map back to rule names. The frame-level
    ``conflicting_duplicate`` rule is not part of it (it compares rows, not values).
    """
    import pandera.polars as pa

    entity = ENTITIES[entity] if isinstance(entity, str) else entity
    rules, _ = rules_for(entity, refs)
    columns = {}
    for col in entity.columns:
        checks = [
            pa.Check(
                lambda data, r=r: data.lazyframe.select(
                    ~r.bad(pl.col(data.key)).fill_null(False)
                ),
                name=r.name,
                error=r.name,
            )
            for r in rules
            if r.column == col.name and r.name != "missing_value"
        ]
        columns[col.name] = pa.Column(
            col.polars_dtype, nullable=not col.required, checks=checks, required=col.required
        )
    return pa.DataFrameSchema(columns, strict=False, name=entity.name)


def validate_with_pandera(
    frame: pl.DataFrame, entity: Entity | str, refs: References
) -> pl.DataFrame:
    """(``source_line``, ``rule``) of every finding pandera reports, lazily validated.

    Used to prove that the schema and :func:`validate` agree, and to measure pandera's cost.
    """
    import pandera.polars as pa

    schema = pandera_schema(entity, refs)
    try:
        schema.validate(frame, lazy=True)
    except pa.errors.SchemaErrors as exc:
        cases = exc.failure_cases
        lines = frame.select(pl.col(LINE)).with_row_index("index")
        return (
            cases.filter(pl.col("index").is_not_null())
            .with_columns(
                rule=pl.when(pl.col("check") == "not_nullable")
                .then(pl.lit("missing_value"))
                .otherwise(pl.col("check"))
            )
            .with_columns(pl.col("index").cast(pl.UInt32))
            .join(lines, on="index", how="left")
            .select(pl.col(LINE), "rule")
            .unique()
            .sort(LINE, "rule")
        )
    return pl.DataFrame(schema={LINE: pl.Int64, "rule": pl.String})
