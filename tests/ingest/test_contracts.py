"""contracts: every rule rejects exactly the bad row; pandera and the Polars path agree."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import polars as pl
import pytest
from ingest_testkit import GOOD_INBOX

from assets.ingest.adapters.base import AdapterContext
from assets.ingest.contracts import References, pandera_schema, validate, validate_with_pandera
from assets.ingest.generic import GENERIC_ADAPTERS
from assets.ingest.reader import read_records
from assets.model import ENTITIES

ADAPTERS = {a.entity: a for a in GENERIC_ADAPTERS}
NOW = datetime(2026, 1, 15, 12, 0)


def good_row(entity: str) -> pl.DataFrame:
    """The first row of the entity's fixture file, typed by the generic adapter."""
    adapter = ADAPTERS[entity]
    path = next(p for p in sorted((GOOD_INBOX / adapter.folder).rglob("*.csv")))
    read = read_records(path, adapter)
    ctx = AdapterContext(path, str(path), path.parent.name, None, "salt", 3, None)
    return adapter.map(read.frame, ctx).rows.head(1)


def three_rows(entity: str) -> tuple[pl.DataFrame, References]:
    """Three valid rows with distinct keys (lines 2, 3, 4) and references that know them."""
    spec = ENTITIES[entity]
    row = good_row(entity)
    first_key = spec.column(spec.key[0])
    frames = []
    for i in range(3):
        if first_key.sql_type == "VARCHAR":
            changed = pl.col(first_key.name) + pl.lit(f"-{i}")
        else:
            changed = pl.col(first_key.name) + pl.duration(days=i)
        frames.append(row.with_columns(changed.alias(first_key.name), source_line=pl.lit(i + 2, pl.Int64)))
    frame = pl.concat(frames)
    skus = set()
    for col in ("sku", "bundle_sku", "component_sku"):
        if col in frame.columns:
            skus |= set(frame[col].drop_nulls().to_list())
    refs = References(known_skus=frozenset(skus), currencies=frozenset({"EUR", "USD"}), now=NOW)
    return frame, refs


def test_fixture_rows_are_valid():
    for entity in ENTITIES:
        frame, refs = three_rows(entity)
        result = validate(frame, entity, refs)
        assert result.rejects.height == 0, (entity, result.rejects.rows())
        assert result.good.height == 3


CASES = [
    ("order_lines", "quantity", 0, "quantity_not_positive"),
    ("order_lines", "quantity", -3, "quantity_not_positive"),
    ("order_lines", "quantity", None, "missing_value"),
    ("order_lines", "status", "lost", "not_in_allowed_values"),
    ("order_lines", "unit_price", -1.0, "negative_amount"),
    ("order_lines", "unit_price", float("nan"), "not_finite"),
    ("order_lines", "currency", "XXX", "unknown_currency"),
    ("order_lines", "currency", "eur", "invalid_currency_code"),
    ("order_lines", "sku", "NOPE-404", "unknown_sku"),
    ("order_lines", "ordered_at", datetime(1970, 1, 1), "timestamp_out_of_range"),
    ("order_lines", "updated_at", NOW + timedelta(days=30), "timestamp_in_future"),
    ("order_lines", "order_id", '=HYPERLINK("http://x","y")', "formula_injection"),
    ("order_lines", "channel_sku", "x" * 1001, "text_too_long"),
    ("order_lines", "order_id", "W1001\u200b", "invalid_characters"),
    ("stock_snapshots", "on_hand", -1, "negative_stock"),
    ("stock_snapshots", "snapshot_date", date(1999, 12, 31), "date_out_of_range"),
    ("stock_snapshots", "snapshot_date", date(2028, 1, 1), "date_out_of_range"),
    ("stock_adjustments", "quantity", 0, "zero_quantity"),
    ("stock_adjustments", "reason", "theft?", "not_in_allowed_values"),
    ("receipts", "quantity_received", -5, "quantity_not_positive"),
    ("purchase_orders", "quantity_ordered", 0, "quantity_not_positive"),
    ("purchase_orders", "status", "lost", "not_in_allowed_values"),
    ("returns", "condition", "so-so", "not_in_allowed_values"),
    ("fulfillment_events", "event_type", "teleported", "not_in_allowed_values"),
    ("products", "moq", -1, "negative_value"),
    ("products", "case_pack", 0, "quantity_not_positive"),
    ("products", "name", None, "missing_value"),
    ("channels", "safety_buffer_pct", 1.5, "value_out_of_range"),
    ("fx_rates", "rate_to_base", 0.0, "rate_not_positive"),
    ("locations", "location_type", "garage", "not_in_allowed_values"),
    ("bundle_components", "component_sku", "GHOST", "unknown_sku"),
]


@pytest.mark.parametrize("entity,column,value,rule", CASES, ids=[f"{c[0]}.{c[1]}-{c[3]}" for c in CASES])
def test_each_rule_rejects_exactly_the_bad_row(entity, column, value, rule):
    frame, refs = three_rows(entity)
    dtype = frame.schema[column]
    frame = frame.with_columns(
        pl.when(pl.col("source_line") == 3).then(pl.lit(value, dtype=dtype)).otherwise(pl.col(column)).alias(column)
    )
    result = validate(frame, entity, refs)
    assert result.rejects.select("source_line", "rule").rows() == [(3, rule)]
    message = result.rejects["message"][0]
    assert column in message and f"[{rule}]" in message
    assert result.good["source_line"].to_list() == [2, 4]


def test_message_names_the_value():
    frame, refs = three_rows("order_lines")
    frame = frame.with_columns(quantity=pl.when(pl.col("source_line") == 2).then(-7).otherwise(pl.col("quantity")))
    result = validate(frame, "order_lines", refs)
    assert result.rejects["message"][0] == "quantity '-7' must be > 0 (0 only on a cancelled line) [quantity_not_positive]"


def test_conflicting_duplicates_are_all_rejected_exact_repeats_are_not():
    frame, refs = three_rows("products")
    first = frame.head(1)
    clash = first.with_columns(name=pl.lit("Another name"), source_line=pl.lit(9, pl.Int64))
    repeat = frame.slice(1, 1).with_columns(source_line=pl.lit(10, pl.Int64))
    result = validate(pl.concat([frame, clash, repeat]), "products", refs)
    assert result.rejects.select("source_line", "rule").rows() == [
        (2, "conflicting_duplicate"),
        (9, "conflicting_duplicate"),
    ]
    assert result.good["source_line"].to_list() == [3, 4, 10]


def test_same_version_twice_is_resolved_by_the_later_line_not_rejected():
    frame, refs = three_rows("order_lines")
    again = frame.head(1).with_columns(status=pl.lit("cancelled"), source_line=pl.lit(9, pl.Int64))
    assert validate(pl.concat([frame, again]), "order_lines", refs).rejects.height == 0


def test_promised_ship_by_may_lie_ahead():
    frame, refs = three_rows("order_lines")
    frame = frame.with_columns(promised_ship_by=pl.lit(NOW + timedelta(days=20)))
    assert validate(frame, "order_lines", refs).rejects.height == 0


def test_later_version_of_a_key_is_history_not_conflict():
    frame, refs = three_rows("order_lines")
    later = frame.head(1).with_columns(
        status=pl.lit("shipped"), updated_at=pl.col("updated_at") + pl.duration(days=1), source_line=pl.lit(9, pl.Int64)
    )
    assert validate(pl.concat([frame, later]), "order_lines", refs).rejects.height == 0


def test_empty_references_skip_the_check_and_say_so():
    frame, _ = three_rows("order_lines")
    frame = frame.with_columns(sku=pl.lit("UNKNOWN"), currency=pl.lit("ZZZ"))
    result = validate(frame, "order_lines", References(now=NOW))
    assert result.rejects.height == 0
    assert any("SKU references not checked" in m for m in result.messages)
    assert any("currency checked for form only" in m for m in result.messages)


def test_several_rules_one_record_one_reject_with_every_message():
    frame, refs = three_rows("order_lines")
    frame = frame.with_columns(
        quantity=pl.when(pl.col("source_line") == 4).then(0).otherwise(pl.col("quantity")),
        currency=pl.when(pl.col("source_line") == 4).then(pl.lit("XXX")).otherwise(pl.col("currency")),
    )
    result = validate(frame, "order_lines", refs)
    assert result.rejects.height == 1
    message = result.rejects["message"][0]
    assert "[quantity_not_positive]" in message and "[unknown_currency]" in message


def test_pandera_schema_is_built_from_the_model():
    schema = pandera_schema("order_lines", References(now=NOW))
    assert set(schema.columns) == set(ENTITIES["order_lines"].column_names)
    assert schema.columns["quantity"].nullable is False
    assert schema.columns["paid_at"].nullable is True
    assert "quantity_not_positive" in {c.name for c in schema.columns["quantity"].checks}


def test_pandera_and_polars_paths_agree():
    frame, refs = three_rows("order_lines")
    bad = []
    for i, (column, value, _) in enumerate(
        [("quantity", 0, None), ("currency", "XXX", None), ("status", "lost", None), ("unit_price", -2.0, None)]
    ):
        bad.append(
            frame.head(1).with_columns(
                pl.lit(value, dtype=frame.schema[column]).alias(column),
                pl.lit(f"K{i}").alias("order_id"),
                source_line=pl.lit(10 + i, pl.Int64),
            )
        )
    frame = pl.concat([frame, *bad])
    ours = validate(frame, "order_lines", refs).rejects.select("source_line", "rule")
    theirs = validate_with_pandera(frame, "order_lines", refs)
    assert ours.sort("source_line").rows() == theirs.sort("source_line").rows()


def test_zero_quantity_lands_only_on_a_cancelled_line():
    # Amazon reports a cancelled line with quantity 0: the cancellation must land
    frame, refs = three_rows("order_lines")
    frame = frame.with_columns(
        quantity=pl.when(pl.col("source_line") >= 2).then(0).otherwise(pl.col("quantity")),
        status=pl.when(pl.col("source_line") == 2).then(pl.lit("cancelled")).otherwise(pl.col("status")),
    )
    result = validate(frame, "order_lines", refs)
    # lines 2, 3, 4 all have quantity 0; only line 2 is cancelled
    assert sorted(result.rejects["source_line"].to_list()) == [3, 4]
    assert set(result.rejects["rule"].to_list()) == {"quantity_not_positive"}
    assert result.good["source_line"].to_list() == [2]
