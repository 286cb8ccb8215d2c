"""Quality checks beside the inventory marts: ATS never above on hand, reconciliation adds up.

Great Expectations suites run as Dagster asset checks by the shared runner
(:mod:`assets.quality.runner`; docs/data-quality.md). Each probe (one query in
``sql/<name>_probe.sql``) reads the marts' own column names; a mart that lost one of them
fails the check naming it, a mart that was not built (no stock data) makes the check "not
applicable".
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb

from assets.inventory.models import SQL_DIR
from assets.quality.runner import asset_checks
from assets.quality.specs import (
    Expect,
    Probe,
    QualityCheck,
    QualitySettings,
    none_of,
    num_text,
    table_probe,
)
from assets.warehouse.sql_files import read_model

# what each probe reads, by role: shown in the check's metadata (context_columns)
ATS_LOCATION_COLUMNS = {
    "sku": "sku", "location_id": "location_id", "on_hand": "on_hand_units",
    "allocated": "allocated_units", "reserved": "reserved_units", "ats": "ats_units",
}
ATS_CHANNEL_COLUMNS = {
    "sku": "sku", "channel_id": "channel_id", "on_hand": "on_hand_units", "ats": "ats_units",
}
# `counted` in marts.reconciliation is the "was this a physical count" flag, not a quantity
RECONCILIATION_COLUMNS = {
    "counted": "counted_on_hand", "expected": "expected_on_hand", "difference": "difference_units",
}


def probe_ats_within_on_hand(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
    """Per location: no SKU's ATS above on hand, above what is free, or below 0.

    ATS = max(0, on hand − allocated − reserved − buffer), so it can never exceed on hand nor
    on hand − allocated − reserved (when that is positive). A channel told more than that
    oversells. Bundle rows (no on hand of their own: NULL) are judged for ATS < 0 only.
    """
    expectations = [
        none_of(
            "ats_above_on_hand_rows",
            "a SKU's ATS is above its on hand",
            lambda r: (
                f"location {r['location_id']}: {num_text(r['ats_above_on_hand_rows'])} SKUs with "
                f"ATS above on hand (worst: {r['worst_sku']}, ATS {num_text(r['worst_ats'])} > "
                f"on hand {num_text(r['worst_on_hand'])})"
            ),
        ),
        none_of(
            "ats_above_free_rows",
            "a SKU's ATS is above on hand − allocated − reserved",
            lambda r: (
                f"location {r['location_id']}: {num_text(r['ats_above_free_rows'])} SKUs with "
                "ATS above on hand − allocated − reserved (allocations or reservations ignored?)"
            ),
        ),
        none_of(
            "negative_ats_rows",
            "a SKU's ATS is below 0",
            lambda r: (
                f"location {r['location_id']}: {num_text(r['negative_ats_rows'])} SKUs with ATS < 0"
            ),
        ),
    ]
    return table_probe(con, "marts", "ats_by_sku_location", ATS_LOCATION_COLUMNS,
                       read_model(SQL_DIR, "ats_within_on_hand_probe"), expectations)


def probe_channel_ats(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
    """Per channel: ATS within the on hand of the channel's locations, >= 0, one row per SKU.

    The 500-shirts rule: whatever a channel is told, it is never more than the units on hand
    in the locations that serve it. Bundle rows (NULL on hand) are judged for ATS < 0 only.
    """
    expectations = [
        none_of(
            "ats_above_on_hand_rows",
            "a channel is offered more than the on hand of its locations",
            lambda r: (
                f"channel {r['channel_id']}: {num_text(r['ats_above_on_hand_rows'])} SKUs offered "
                f"above on hand (worst: {r['worst_sku']}, ATS {num_text(r['worst_ats'])} > "
                f"on hand {num_text(r['worst_on_hand'])})"
            ),
        ),
        none_of(
            "negative_ats_rows",
            "a channel is offered a negative ATS",
            lambda r: (
                f"channel {r['channel_id']}: {num_text(r['negative_ats_rows'])} SKUs with "
                f"ATS < 0 (e.g. {r['lowest_sku']} at {num_text(r['min_ats'])})"
            ),
        ),
        none_of(
            "duplicate_rows",
            "a SKU appears twice for one channel (the feed would carry two quantities)",
            lambda r: (
                f"channel {r['channel_id']}: {num_text(r['duplicate_rows'])} duplicated SKU rows"
            ),
        ),
    ]
    return table_probe(con, "marts", "ats_by_sku_channel", ATS_CHANNEL_COLUMNS,
                       read_model(SQL_DIR, "channel_ats_probe"), expectations)


def probe_reconciliation_sums(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
    """The differences add up: sum(difference) = sum(counted) − sum(expected), row by row too.

    A row without a counted or an expected quantity is not judged; a row with both but no
    difference counts as mismatched.
    """

    def totals(r: Mapping[str, Any]) -> str:
        return (
            f"reconciliation differences sum to {num_text(r['sum_difference'])}, but counted − "
            f"expected is {num_text(r['sum_counted'])} − {num_text(r['sum_expected'])} = "
            f"{num_text(r['sum_counted'] - r['sum_expected'])} (gap {num_text(r['gap'])})"
        )

    expectations = [
        Expect(
            "ExpectColumnValuesToBeBetween",
            {"column": "gap", "min_value": -0.5, "max_value": 0.5},
            "sum of differences ≠ sum(counted) − sum(expected)",
            totals,
        ),
        none_of(
            "mismatched_rows",
            "rows whose difference ≠ counted − expected",
            lambda r: (
                f"{num_text(r['mismatched_rows'])} reconciliation rows whose difference is not "
                f"counted − expected (e.g. {r['example_row']})"
            ),
        ),
    ]
    return table_probe(con, "marts", "reconciliation", RECONCILIATION_COLUMNS,
                       read_model(SQL_DIR, "reconciliation_sums_probe"), expectations)


QUALITY_CHECKS: list[QualityCheck] = [
    QualityCheck(
        "ats_within_on_hand",
        ("marts", "ats_by_sku_location"),
        False,
        "ATS never above on hand or on hand − allocated − reserved, never below 0.",
        probe_ats_within_on_hand,
    ),
    QualityCheck(
        "ats_within_on_hand",
        ("marts", "ats_by_sku_channel"),
        False,
        "Channel ATS never above the on hand of its locations nor below 0; one row per SKU.",
        probe_channel_ats,
    ),
    QualityCheck(
        "differences_add_up",
        ("marts", "reconciliation"),
        False,
        "sum(difference) = sum(counted) − sum(expected), and per row.",
        probe_reconciliation_sums,
    ),
]

CHECKS = asset_checks(QUALITY_CHECKS)
