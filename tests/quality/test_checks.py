"""Each expectation catches the one way of breaking the data it is about; healthy data passes.

Every case loads the healthy warehouse, breaks exactly one thing in SQL, runs the one check
that should notice, and asserts that exactly the expected expectation(s) of it fail, with a
message a person can act on.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from quality_builder import ALL_CHECKS, JUDGED_DAY, drop_primary_key, get_check, run, sql

DAY = JUDGED_DAY.isoformat()
YESTERDAY = (JUDGED_DAY - dt.timedelta(days=1)).isoformat()
WEEKDAY = JUDGED_DAY.strftime("%A")


@pytest.mark.parametrize("suite", [c.suite for c in ALL_CHECKS])
def test_healthy_data_passes_every_check(warehouse, qs, suite):
    report = run(warehouse, suite, qs)
    assert report.unavailable is None
    assert report.passed, report.message
    # a probe that judged nothing would pass vacuously: every check here sees rows
    assert all(o.rows_checked > 0 for o in report.outcomes), suite


# (id, statements that break the warehouse, suite, failing columns, words in the message)
BREAKS = [
    (
        "channel sent nothing on the judged day",
        [
            f"DELETE FROM core.order_lines WHERE channel_id = 'ebay_uk' "
            f"AND CAST(ordered_at AS DATE) = DATE '{DAY}'"
        ],
        "core.order_lines.daily_volume",
        {"lines"},
        f"channel ebay_uk sent 0 order lines on {DAY} (its latest line is from {YESTERDAY}); "
        f"its median over the previous 28 days is 12 (12 on {WEEKDAY}s)",
    ),
    (
        "a day with under 10% of the usual volume",
        [
            f"DELETE FROM core.order_lines WHERE channel_id = 'web' "
            f"AND CAST(ordered_at AS DATE) = DATE '{DAY}' AND ordered_at >= TIMESTAMP '{DAY} 08:14'"
        ],
        "core.order_lines.daily_volume",
        {"collapse_ratio"},
        f"channel web sent only 2 order lines on {DAY}, 7% of its usual 30; its median over "
        f"the previous 28 days is 30 (30.50 on {WEEKDAY}s)",
    ),
    (
        "a duplicated order line",
        ["INSERT INTO core.order_lines SELECT * FROM core.order_lines LIMIT 1"],
        "core.order_lines.no_duplicate_lines",
        {"duplicate_rows"},
        "core.order_lines has 1 extra rows on 1 duplicated keys (channel_id, order_id, line_id)",
    ),
    (
        "an order line without a line id",
        [
            "INSERT INTO core.order_lines SELECT * REPLACE (NULL AS line_id) "
            "FROM core.order_lines LIMIT 1"
        ],
        "core.order_lines.no_duplicate_lines",
        {"null_key_rows"},
        "core.order_lines has 1 rows with an empty key column",
    ),
    (
        "a negative quantity",
        [
            f"UPDATE core.order_lines SET quantity = -2 WHERE channel_id = 'web' "
            f"AND order_id = 'web-{JUDGED_DAY:%m%d}-0' AND line_id = '1'"
        ],
        "core.order_lines.quantity_positive",
        {"bad_quantity_lines"},
        f"channel web: 1 order lines on {DAY} with quantity <= 0 (not cancelled) or missing (lowest -2)",
    ),
    (
        "a quantity of 0 on a line that is not cancelled",
        [
            f"UPDATE core.order_lines SET quantity = 0, status = 'paid' WHERE channel_id = 'web' "
            f"AND order_id = 'web-{JUDGED_DAY:%m%d}-0' AND line_id = '1'"
        ],
        "core.order_lines.quantity_positive",
        {"bad_quantity_lines"},
        f"channel web: 1 order lines on {DAY} with quantity <= 0 (not cancelled) or missing (lowest 0)",
    ),
    (
        "an order line dated in the future",
        [
            "UPDATE core.order_lines SET ordered_at = now()::TIMESTAMP + INTERVAL 2 DAY "
            "WHERE order_id = (SELECT min(order_id) FROM core.order_lines)"
        ],
        "core.order_lines.freshness",
        {"ahead_of_clock_hours"},
        "hours in the future",
    ),
    (
        "a negative unit price",
        [
            "UPDATE core.order_lines SET unit_price = -1 WHERE channel_id = 'amazon_de' "
            f"AND order_id = 'amazon_de-{JUDGED_DAY:%m%d}-3'"
        ],
        "core.order_lines.prices_non_negative",
        {"negative_price_lines"},
        f"channel amazon_de: 2 order lines on {DAY} with a negative unit price (lowest -1)",
    ),
    (
        "a negative line amount",
        [
            "UPDATE core.order_lines SET line_amount_base = -10 WHERE channel_id = 'web' "
            f"AND order_id = 'web-{JUDGED_DAY:%m%d}-1' AND line_id = '2'"
        ],
        "core.order_lines.prices_non_negative",
        {"negative_amount_lines"},
        f"channel web: 1 order lines on {DAY} with a negative line amount (lowest -10)",
    ),
    (
        "prices landed in cents",
        [
            f"UPDATE core.order_lines SET unit_price_base = unit_price_base * 100 "
            f"WHERE channel_id = 'amazon_de' AND CAST(ordered_at AS DATE) = DATE '{DAY}'"
        ],
        "core.order_lines.unit_price_band",
        {"price_ratio"},
        f"channel amazon_de: mean unit price on {DAY} is 3,631.58 (base currency), "
        "103.76× its median",
    ),
    (
        "a paid line amount above quantity × price",
        [
            "UPDATE core.order_lines SET line_amount = line_amount * 3, "
            "line_amount_base = line_amount_base * 3 "
            f"WHERE order_id = 'web-{JUDGED_DAY:%m%d}-0' AND line_id = '1'"
        ],
        "core.order_lines.paid_amounts",
        {"excess_over_gross"},
        f"order web-{JUDGED_DAY:%m%d}-0 on web ({DAY}): total",
    ),
    (
        "a base amount converted at the wrong rate",
        [
            "UPDATE core.order_lines SET line_amount_base = line_amount "
            f"WHERE order_id = 'ebay_uk-{JUDGED_DAY:%m%d}-0'"
        ],
        "core.order_lines.paid_amounts",
        {"base_vs_fx"},
        f"order ebay_uk-{JUDGED_DAY:%m%d}-0 on ebay_uk ({DAY}): base total",
    ),
    (
        "an order line for an unknown SKU",
        [
            "UPDATE core.order_lines SET sku = 'SKU-404' WHERE channel_id = 'web' "
            f"AND order_id = 'web-{JUDGED_DAY:%m%d}-0' AND line_id = '1'"
        ],
        "core.order_lines.sku_in_products",
        {"product_sku"},
        "SKU SKU-404 is on 1 order lines (e.g. channel web) but not in core.products",
    ),
    (
        "negative on hand",
        [
            f"UPDATE core.stock_snapshots SET on_hand = -3 WHERE location_id = 'WH2' "
            f"AND sku = 'SKU-4' AND snapshot_date = DATE '{DAY}'"
        ],
        "core.stock_snapshots.values_in_range",
        {"negative_on_hand_rows"},
        f"location WH2 on {DAY}: 1 SKUs with on hand < 0 or missing (lowest: SKU-4 at -3)",
    ),
    (
        "negative reserved",
        [
            f"UPDATE core.stock_snapshots SET reserved = -1 WHERE location_id = 'WH1' "
            f"AND sku = 'SKU-2' AND snapshot_date = DATE '{DAY}'"
        ],
        "core.stock_snapshots.values_in_range",
        {"negative_reserved_rows"},
        f"location WH1 on {DAY}: 1 SKUs with reserved < 0 (lowest: SKU-2 at -1)",
    ),
    (
        "a snapshot of an unknown SKU",
        [
            f"UPDATE core.stock_snapshots SET sku = 'SKU-404' WHERE location_id = 'WH1' "
            f"AND sku = 'SKU-2' AND snapshot_date = DATE '{DAY}'"
        ],
        "core.stock_snapshots.master_data_known",
        {"unknown_sku_rows"},
        f"location WH1 on {DAY}: 1 snapshot rows for SKUs not in core.products (e.g. SKU-404)",
    ),
    (
        "a snapshot at an unknown location",
        [
            f"UPDATE core.stock_snapshots SET location_id = 'WH9' WHERE location_id = 'WH2' "
            f"AND snapshot_date = DATE '{DAY}'"
        ],
        "core.stock_snapshots.master_data_known",
        {"known_location_id"},
        f"location WH9 has 6 snapshot rows on {DAY} but is not in core.locations",
    ),
    (
        "a receipt for an unknown purchase order",
        ["UPDATE core.receipts SET po_number = 'PO-404' WHERE sku = 'SKU-2'"],
        "core.receipts.po_known",
        {"known_po_number"},
        "1 receipt lines name purchase order PO-404, which is not in core.purchase_orders",
    ),
    (
        "a receipt for a SKU not on its purchase order",
        ["UPDATE core.receipts SET sku = 'SKU-5' WHERE sku = 'SKU-2'"],
        "core.receipts.po_known",
        {"sku_not_on_po_lines"},
        "purchase order PO-1: 1 receipt lines for SKUs not on the order (e.g. SKU-5)",
    ),
    (
        "a case pack of 0",
        ["UPDATE core.products SET case_pack = 0 WHERE sku = 'SKU-3'"],
        "core.products.values_in_range",
        {"case_pack"},
        "product SKU-3: case_pack is 0, expected >= 1",
    ),
    (
        "a negative MOQ",
        ["UPDATE core.products SET moq = -6 WHERE sku = 'SKU-1'"],
        "core.products.values_in_range",
        {"moq"},
        "product SKU-1: moq is -6, expected >= 0",
    ),
    (
        "a negative unit cost",
        ["UPDATE core.products SET unit_cost = -1.5 WHERE sku = 'SKU-1'"],
        "core.products.values_in_range",
        {"unit_cost"},
        "product SKU-1: unit_cost is -1.50, expected >= 0",
    ),
    (
        "a negative list price",
        ["UPDATE core.products SET list_price = -20 WHERE sku = 'SKU-2'"],
        "core.products.values_in_range",
        {"list_price"},
        "product SKU-2: list_price is -20, expected >= 0",
    ),
    (
        "ATS above on hand",
        [
            "UPDATE marts.ats_by_sku_location SET ats_units = on_hand_units + 5 "
            "WHERE sku = 'SKU-1' AND location_id = 'WH1'"
        ],
        "marts.ats_by_sku_location.ats_within_on_hand",
        {"ats_above_on_hand_rows", "ats_above_free_rows"},
        "location WH1: 1 SKUs with ATS above on hand (worst: SKU-1, ATS 45 > on hand 40)",
    ),
    (
        "ATS ignores allocations",
        [
            "UPDATE marts.ats_by_sku_location SET allocated_units = 30 WHERE location_id = 'WH2' "
            "AND NOT is_bundle"
        ],
        "marts.ats_by_sku_location.ats_within_on_hand",
        {"ats_above_free_rows"},
        "location WH2: 6 SKUs with ATS above on hand − allocated − reserved",
    ),
    (
        "negative ATS at a location",
        [
            "UPDATE marts.ats_by_sku_location SET ats_units = -1 WHERE sku = 'SKU-6' "
            "AND location_id = 'WH2'"
        ],
        "marts.ats_by_sku_location.ats_within_on_hand",
        {"negative_ats_rows"},
        "location WH2: 1 SKUs with ATS < 0",
    ),
    (
        "a channel offered more than its locations hold",
        [
            "UPDATE marts.ats_by_sku_channel SET ats_units = on_hand_units + 1 "
            "WHERE sku = 'SKU-2' AND channel_id = 'web'"
        ],
        "marts.ats_by_sku_channel.ats_within_on_hand",
        {"ats_above_on_hand_rows"},
        "channel web: 1 SKUs offered above on hand (worst: SKU-2, ATS 87 > on hand 86)",
    ),
    (
        "negative ATS offered to a channel",
        [
            "UPDATE marts.ats_by_sku_channel SET ats_units = -4 WHERE sku = 'SKU-3' "
            "AND channel_id = 'ebay_uk'"
        ],
        "marts.ats_by_sku_channel.ats_within_on_hand",
        {"negative_ats_rows"},
        "channel ebay_uk: 1 SKUs with ATS < 0 (e.g. SKU-3 at -4)",
    ),
    (
        "a SKU twice in one channel's ATS",
        [
            "INSERT INTO marts.ats_by_sku_channel SELECT * FROM marts.ats_by_sku_channel "
            "WHERE channel_id = 'web' AND sku = 'SKU-1'"
        ],
        "marts.ats_by_sku_channel.ats_within_on_hand",
        {"duplicate_rows"},
        "channel web: 1 duplicated SKU rows",
    ),
    (
        "reconciliation differences that do not add up",
        [
            "UPDATE marts.reconciliation SET difference_units = 7 WHERE sku = 'SKU-1' "
            "AND location_id = 'WH1'"
        ],
        "marts.reconciliation.differences_add_up",
        {"gap", "mismatched_rows"},
        "reconciliation differences sum to -4, but counted − expected is 570 − 582 = -12 (gap 8)",
    ),
    *[
        (
            f"a suggested line {what}",
            [f"UPDATE marts.replenishment_suggestions SET {change} WHERE sku = 'SKU-1'"],
            "marts.replenishment_suggestions.orderable",
            failing,
            words,
        )
        for what, change, failing, words in [
            ("of 0 units", "suggested_units = 0", {"not_positive_rows", "below_moq_rows"},
             "supplier SUP-1: 1 suggested lines with 0 or fewer units (e.g. SKU-1 at WH1: 0 units"),
            ("not in whole cases", "suggested_units = 50", {"not_whole_cases_rows"},
             "supplier SUP-1: 1 suggested lines not in whole cases (e.g. SKU-1 at WH1: 50 units, "
             "case pack 12, MOQ 24)"),
            ("below the MOQ", "suggested_units = 12", {"below_moq_rows"},
             "supplier SUP-1: 1 suggested lines below the MOQ"),
            ("with reorder point above order-up-to", "reorder_point_units = 80",
             {"reorder_point_above_order_up_to_rows"},
             "1 suggested lines whose reorder point is above the order-up-to level"),
            ("with service level 1", "service_level = 1.0", {"service_level_out_of_range_rows"},
             "1 suggested lines with a service level outside (0, 1)"),
            ("without a reason", "reason = ' '", {"without_reason_rows"},
             "supplier SUP-1: 1 suggested lines without a reason"),
            ("twice for one SKU-location", "location_id = 'WH1', sku = 'SKU-2'",
             {"duplicate_rows"}, "supplier SUP-1: 2 suggested lines suggested twice"),
        ]
    ],
]


@pytest.mark.parametrize(
    "statements, suite, failing, words", [b[1:] for b in BREAKS], ids=[b[0] for b in BREAKS]
)
def test_each_break_is_caught_by_its_expectation(warehouse, qs, statements, suite, failing, words):
    if "no_duplicate_lines" in suite:
        drop_primary_key(warehouse, "core.order_lines")  # core's PK would refuse the break
    sql(warehouse, *statements)
    report = run(warehouse, suite, qs)
    assert not report.passed
    assert {o.expectation.column for o in report.failures} == failing
    assert words in report.message, report.message
    failure = report.failures[0]
    assert failure.failing_rows >= 1 and failure.sample, "a failure carries its rows"


def test_every_expectation_has_a_break(warehouse, qs):
    """No expectation goes untested: each (suite, column) is broken by a case above or below.

    Key uniqueness of the other core entities is ingest's own ``key_unique`` check (tested on
    stock_snapshots below); freshness' age has its own test.
    """
    from assets.warehouse import connect

    with connect(warehouse) as con:
        needed = {
            (check.suite, e.column)
            for check in ALL_CHECKS
            if check.name != "key_unique"
            for e in check.probe(con, qs).expectations
        }
    covered = {(b[2], column) for b in BREAKS for column in b[3]}
    covered.add(("core.order_lines.freshness", "age_days"))  # test_a_stale_feed_warns
    assert needed - covered == set()


def test_a_stale_feed_warns(warehouse, qs):
    """Judged five days after the last line, the freshness check warns."""
    stale = qs.__class__(as_of=JUDGED_DAY + dt.timedelta(days=5))
    report = run(warehouse, "core.order_lines.freshness", stale)
    assert {o.expectation.column for o in report.failures} == {"age_days"}
    assert "the newest order line of channel" in report.message
    assert "5.5 days before" in report.message


def test_an_empty_order_table_is_stale(warehouse, qs):
    sql(warehouse, "DELETE FROM core.order_lines")
    report = run(warehouse, "core.order_lines.freshness", qs)
    assert "core.order_lines is empty" in report.message


def test_half_the_usual_volume_is_not_a_collapse(warehouse, qs):
    """A slow day (about 50% of the median) is business, not a broken feed."""
    sql(
        warehouse,
        f"DELETE FROM core.order_lines WHERE channel_id = 'web' "
        f"AND CAST(ordered_at AS DATE) = DATE '{DAY}' AND ordered_at >= TIMESTAMP '{DAY} 09:45'",
    )
    report = run(warehouse, "core.order_lines.daily_volume", qs)
    assert report.passed, report.message


def test_a_low_volume_channel_may_have_empty_days(warehouse, qs):
    """A channel selling ~3 lines a day has natural zero days: not judged, no false alarm."""
    sql(
        warehouse,
        "DELETE FROM core.order_lines WHERE channel_id = 'ebay_uk' "
        "AND CAST(ordered_at AS TIME) >= TIME '08:21'",  # keeps 3 lines a day
        f"DELETE FROM core.order_lines WHERE channel_id = 'ebay_uk' "
        f"AND CAST(ordered_at AS DATE) = DATE '{DAY}'",
    )
    report = run(warehouse, "core.order_lines.daily_volume", qs)
    assert report.passed, report.message
    assert report.outcomes[0].rows_checked == 2  # web and amazon_de only


def test_a_channel_closed_on_this_weekday_is_not_judged(warehouse, qs):
    """Stores closed on Sundays: an empty Sunday is their normal, not a broken feed."""
    sql(
        warehouse,
        "DELETE FROM core.order_lines WHERE channel_id = 'ebay_uk' "
        f"AND dayofweek(CAST(ordered_at AS DATE)) = dayofweek(DATE '{DAY}')",
    )
    report = run(warehouse, "core.order_lines.daily_volume", qs)
    assert report.passed, report.message
    assert report.outcomes[0].rows_checked == 2  # web and amazon_de only


def test_a_quiet_day_is_not_judged(warehouse, qs):
    """Holidays listed in [quality] quiet_days may be empty."""
    sql(
        warehouse,
        f"DELETE FROM core.order_lines WHERE CAST(ordered_at AS DATE) = DATE '{DAY}'",
    )
    assert not run(warehouse, "core.order_lines.daily_volume", qs).passed
    quiet = dataclasses.replace(qs, quiet_days=(JUDGED_DAY,))
    report = run(warehouse, "core.order_lines.daily_volume", quiet)
    assert report.passed, report.message
    assert "quiet_days" in report.context["quiet_day"]


def test_duplicated_snapshot_key(warehouse, qs):
    """Key uniqueness of the other core entities is ingest's own ``key_unique`` check, the one
    registered on every core table (the quality domain's never-registered twins are gone):
    here it catches a duplicated stock snapshot key."""
    import dagster as dg

    from assets.ingest.assets import ASSET_CHECKS
    from assets.warehouse import WarehouseResource

    drop_primary_key(warehouse, "core.stock_snapshots")
    sql(warehouse, "INSERT INTO core.stock_snapshots SELECT * FROM core.stock_snapshots LIMIT 2")
    key = dg.AssetCheckKey(dg.AssetKey(["core", "stock_snapshots"]), "key_unique")
    key_unique = next(c for c in ASSET_CHECKS if key in c.check_keys)
    result = key_unique(warehouse=WarehouseResource(path=str(warehouse)))
    assert not result.passed
    assert result.metadata["duplicates"].value == 2


def test_a_mart_without_the_expected_columns_says_so(warehouse, qs):
    sql(warehouse, "ALTER TABLE marts.reconciliation RENAME COLUMN difference_units TO delta")
    report = run(warehouse, "marts.reconciliation.differences_add_up", qs)
    assert not report.passed
    assert "lacks the column(s) this check reads: difference" in report.message


@pytest.mark.parametrize("suite, table, column, guess", [
    ("marts.reconciliation.differences_add_up", "reconciliation", "difference_units", "variance"),
    ("marts.ats_by_sku_location.ats_within_on_hand", "ats_by_sku_location", "ats_units", "ats"),
    ("marts.ats_by_sku_channel.ats_within_on_hand", "ats_by_sku_channel", "on_hand_units",
     "on_hand"),
])
def test_marts_checks_read_the_marts_own_column_names(warehouse, qs, suite, table, column, guess):
    """A mart whose column is renamed fails its check naming the column: the checks are written
    against the inventory marts' own names, they do not guess among look-alikes."""
    sql(warehouse, f"ALTER TABLE marts.{table} RENAME COLUMN {column} TO {guess}")
    report = run(warehouse, suite, qs)
    assert not report.passed
    assert f"lacks the column(s) this check reads: {column}" in report.message


def test_a_missing_mart_says_so(warehouse, qs):
    sql(warehouse, "DROP TABLE marts.ats_by_sku_channel")
    report = run(warehouse, "marts.ats_by_sku_channel.ats_within_on_hand", qs)
    assert "marts.ats_by_sku_channel was not built" in report.message


def test_a_mart_not_built_by_design_is_not_applicable_and_blocks_nothing(warehouse, qs):
    """An orders-only home: replenishment drops its suggestions table (no stock data). The
    blocking `orderable` check must pass as "not applicable", not fail with severity ERROR
    (which skipped publish_serving_snapshot: no dashboards for an orders-only home)."""
    from assets.quality.runner import to_check_result

    sql(warehouse, "DROP TABLE IF EXISTS marts.replenishment_suggestions")
    report = run(warehouse, "marts.replenishment_suggestions.orderable", qs)
    assert report.passed, report.message
    assert report.message.startswith("not applicable: ")
    result = to_check_result(report)
    assert result.passed
    assert "not_applicable" in result.metadata
    from assets.quality.runner import run_check
    from assets.settings import load_settings
    from assets.warehouse import connect

    run_check(get_check("marts.replenishment_suggestions.orderable"), warehouse,
              load_settings(warehouse.parent.parent))
    with connect(warehouse, read_only=True) as con:
        stored = con.execute("SELECT success, message FROM marts.quality_results "
                             "WHERE check_name = 'orderable'").fetchall()
    assert stored[-1][0] is True and stored[-1][1].startswith("not applicable")


def test_a_cancelled_line_with_quantity_zero_passes(warehouse, qs):
    # Amazon reports a cancelled line with quantity 0; that is news, not bad data
    sql(
        warehouse,
        f"UPDATE core.order_lines SET quantity = 0, status = 'cancelled' WHERE channel_id = 'web' "
        f"AND order_id = 'web-{JUDGED_DAY:%m%d}-0' AND line_id = '1'",
    )
    report = run(warehouse, "core.order_lines.quantity_positive", qs)
    assert report.passed, report.message
