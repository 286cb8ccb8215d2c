"""Quality checks over the decision marts: ATS never above on hand, reconciliation adds up,
reorder suggestions are orderable.

The marts belong to the inventory domain and may not exist yet. These checks attach only when
their asset key is defined (see :func:`assets.quality.checks.build_asset_checks`), and each
probe finds its columns by name in ``information_schema``: when a mart's columns differ from
what the check knows, the check says so (a warning) instead of failing with a SQL error.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import duckdb
import pandas as pd

from assets.quality.specs import Expect, Probe, QualityCheck, QualitySettings, num_text

# accepted names per role, first match wins (the inventory domain's names come first)
RECONCILIATION_COLUMNS: dict[str, tuple[str, ...]] = {
    # not plain `counted`: in marts.reconciliation that is the "physical count?" flag
    "counted": ("counted_on_hand", "actual_on_hand", "on_hand"),
    "expected": ("expected_on_hand", "expected"),
    "difference": ("difference_units", "difference", "diff", "variance"),
}
ATS_LOCATION_COLUMNS: dict[str, tuple[str, ...]] = {
    "sku": ("sku",),
    "location_id": ("location_id",),
    "on_hand": ("on_hand_units", "on_hand"),
    "allocated": ("allocated_units", "allocated"),
    "reserved": ("reserved_units", "reserved"),
    "ats": ("ats_units", "ats"),
}
ATS_CHANNEL_COLUMNS: dict[str, tuple[str, ...]] = {
    "sku": ("sku",),
    "channel_id": ("channel_id",),
    "on_hand": ("on_hand_units", "on_hand"),
    "ats": ("ats_units", "ats"),
}


def resolve_columns(
    con: duckdb.DuckDBPyConnection, schema: str, table: str, roles: Mapping[str, tuple[str, ...]]
) -> tuple[dict[str, str] | None, str | None]:
    """Map each role to a column of ``schema.table``; or ``None`` and the reason in words."""
    present = {
        name
        for (name,) in con.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = $schema AND table_name = $table",
            {"schema": schema, "table": table},
        ).fetchall()
    }
    if not present:
        return None, f"{NOT_BUILT_PREFIX}{schema}.{table} was not built (its inputs are absent)"
    mapping, missing = {}, []
    for role, candidates in roles.items():
        found = next((c for c in candidates if c in present), None)
        if found is None:
            missing.append(f"{role} (one of {', '.join(candidates)})")
        else:
            mapping[role] = found
    if missing:
        return None, (
            f"{schema}.{table} lacks the column(s) this check reads: {'; '.join(missing)}; "
            f"it has {', '.join(sorted(present))}"
        )
    return mapping, None


# the reason resolve_columns gives for a table that does not exist
NOT_BUILT_PREFIX = "not applicable: "


def _unavailable(reason: str, expectations: list[Expect]) -> Probe:
    """A probe that cannot run. A table that does not exist was not built by design (its
    asset found no inputs, e.g. no stock data: it drops the table so nobody reads old rows):
    nothing to judge, the check passes as "not applicable" and blocks nothing. A table that
    exists without the columns the check reads is a real problem: the check fails."""
    if reason.startswith(NOT_BUILT_PREFIX):
        return Probe(frame=pd.DataFrame(), expectations=expectations,
                     not_applicable=reason.removeprefix(NOT_BUILT_PREFIX))
    return Probe(frame=pd.DataFrame(), expectations=expectations, unavailable=reason)


def probe_ats_within_on_hand(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
    """Per location: no SKU's ATS above on hand, above what is free, or below 0.

    ATS = max(0, on hand − allocated − reserved − buffer), so it can never exceed on hand nor
    on hand − allocated − reserved (when that is positive). A channel told more than that
    oversells. Bundle rows (no on hand of their own: NULL) are judged for ATS < 0 only.
    """
    expectations = [
        Expect(
            "ExpectColumnValuesToBeBetween",
            {"column": "ats_above_on_hand_rows", "max_value": 0},
            "a SKU's ATS is above its on hand",
            lambda r: (
                f"location {r['location_id']}: {num_text(r['ats_above_on_hand_rows'])} SKUs with "
                f"ATS above on hand (worst: {r['worst_sku']}, ATS {num_text(r['worst_ats'])} > "
                f"on hand {num_text(r['worst_on_hand'])})"
            ),
        ),
        Expect(
            "ExpectColumnValuesToBeBetween",
            {"column": "ats_above_free_rows", "max_value": 0},
            "a SKU's ATS is above on hand − allocated − reserved",
            lambda r: (
                f"location {r['location_id']}: {num_text(r['ats_above_free_rows'])} SKUs with "
                "ATS above on hand − allocated − reserved (allocations or reservations ignored?)"
            ),
        ),
        Expect(
            "ExpectColumnValuesToBeBetween",
            {"column": "negative_ats_rows", "max_value": 0},
            "a SKU's ATS is below 0",
            lambda r: (
                f"location {r['location_id']}: {num_text(r['negative_ats_rows'])} SKUs with ATS < 0"
            ),
        ),
    ]
    cols, why = resolve_columns(con, "marts", "ats_by_sku_location", ATS_LOCATION_COLUMNS)
    if cols is None:
        return _unavailable(why, expectations)
    c = cols
    frame = con.execute(
        f"""
        WITH stock AS (
            SELECT {c["location_id"]} AS location_id, {c["sku"]} AS sku,
                   {c["on_hand"]} AS on_hand, {c["ats"]} AS ats,
                   -- DuckDB's greatest() skips NULLs: keep a bundle's "free" unknown
                   CASE WHEN {c["on_hand"]} IS NOT NULL
                        THEN greatest(0, {c["on_hand"]} - coalesce({c["allocated"]}, 0)
                                         - coalesce({c["reserved"]}, 0))
                   END AS free
            FROM marts.ats_by_sku_location
        )
        SELECT location_id, count(*) AS skus,
               -- NULL on hand (a bundle) compares as unknown: not counted
               count(*) FILTER (WHERE ats > on_hand) AS ats_above_on_hand_rows,
               count(*) FILTER (WHERE ats > free) AS ats_above_free_rows,
               count(*) FILTER (WHERE ats < 0) AS negative_ats_rows,
               arg_max(sku, ats - on_hand) AS worst_sku,
               arg_max(ats, ats - on_hand) AS worst_ats,
               arg_max(on_hand, ats - on_hand) AS worst_on_hand
        FROM stock GROUP BY location_id ORDER BY location_id
        """
    ).df()
    return Probe(frame=frame, expectations=expectations, context={"columns": c})


def probe_channel_ats(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
    """Per channel: ATS within the on hand of the channel's locations, >= 0, one row per SKU.

    The 500-shirts rule: whatever a channel is told, it is never more than the units on hand
    in the locations that serve it. Bundle rows (NULL on hand) are judged for ATS < 0 only.
    """
    expectations = [
        Expect(
            "ExpectColumnValuesToBeBetween",
            {"column": "ats_above_on_hand_rows", "max_value": 0},
            "a channel is offered more than the on hand of its locations",
            lambda r: (
                f"channel {r['channel_id']}: {num_text(r['ats_above_on_hand_rows'])} SKUs offered "
                f"above on hand (worst: {r['worst_sku']}, ATS {num_text(r['worst_ats'])} > "
                f"on hand {num_text(r['worst_on_hand'])})"
            ),
        ),
        Expect(
            "ExpectColumnValuesToBeBetween",
            {"column": "negative_ats_rows", "max_value": 0},
            "a channel is offered a negative ATS",
            lambda r: (
                f"channel {r['channel_id']}: {num_text(r['negative_ats_rows'])} SKUs with "
                f"ATS < 0 (e.g. {r['lowest_sku']} at {num_text(r['min_ats'])})"
            ),
        ),
        Expect(
            "ExpectColumnValuesToBeBetween",
            {"column": "duplicate_rows", "max_value": 0},
            "a SKU appears twice for one channel (the feed would carry two quantities)",
            lambda r: (
                f"channel {r['channel_id']}: {num_text(r['duplicate_rows'])} duplicated SKU rows"
            ),
        ),
    ]
    cols, why = resolve_columns(con, "marts", "ats_by_sku_channel", ATS_CHANNEL_COLUMNS)
    if cols is None:
        return _unavailable(why, expectations)
    c = cols
    frame = con.execute(
        f"""
        WITH offer AS (
            SELECT {c["channel_id"]} AS channel_id, {c["sku"]} AS sku,
                   {c["on_hand"]} AS on_hand, {c["ats"]} AS ats
            FROM marts.ats_by_sku_channel
        )
        SELECT channel_id, count(*) AS skus,
               count(*) FILTER (WHERE ats > on_hand) AS ats_above_on_hand_rows,
               arg_max(sku, ats - on_hand) AS worst_sku,
               arg_max(ats, ats - on_hand) AS worst_ats,
               arg_max(on_hand, ats - on_hand) AS worst_on_hand,
               count(*) FILTER (WHERE ats < 0) AS negative_ats_rows,
               min(ats) AS min_ats,
               arg_min(sku, ats) AS lowest_sku,
               count(*) - count(DISTINCT sku) AS duplicate_rows
        FROM offer GROUP BY channel_id ORDER BY channel_id
        """
    ).df()
    return Probe(frame=frame, expectations=expectations, context={"columns": c})


def probe_reconciliation_sums(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
    """The differences add up: sum(difference) = sum(counted) − sum(expected), row by row too."""

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
        Expect(
            "ExpectColumnValuesToBeBetween",
            {"column": "mismatched_rows", "max_value": 0},
            "rows whose difference ≠ counted − expected",
            lambda r: (
                f"{num_text(r['mismatched_rows'])} reconciliation rows whose difference is not "
                f"counted − expected (e.g. {r['example_row']})"
            ),
        ),
    ]
    cols, why = resolve_columns(con, "marts", "reconciliation", RECONCILIATION_COLUMNS)
    if cols is None:
        return _unavailable(why, expectations)
    c = cols
    frame = con.execute(
        f"""
        WITH judged AS (
            -- a row without a count or an expectation has no difference to add up
            SELECT {c["difference"]} AS difference, {c["counted"]} AS counted,
                   {c["expected"]} AS expected,
                   {c["difference"]} - ({c["counted"]} - {c["expected"]}) AS row_gap
            FROM marts.reconciliation
            WHERE {c["counted"]} IS NOT NULL AND {c["expected"]} IS NOT NULL
        )
        SELECT count(*) AS rows,
               coalesce(sum(difference), 0) AS sum_difference,
               coalesce(sum(counted), 0) AS sum_counted,
               coalesce(sum(expected), 0) AS sum_expected,
               coalesce(sum(difference), 0)
                 - (coalesce(sum(counted), 0) - coalesce(sum(expected), 0)) AS gap,
               -- a missing difference where counted and expected are known is a mismatch too
               count(*) FILTER (WHERE row_gap IS NULL OR abs(row_gap) > 0.5) AS mismatched_rows,
               -- one offending row, whole, so a person can look it up (cast once, not per row)
               (SELECT CAST(r AS VARCHAR) FROM marts.reconciliation AS r
                 WHERE r.{c["counted"]} IS NOT NULL AND r.{c["expected"]} IS NOT NULL
                   AND (r.{c["difference"]} IS NULL
                        OR abs(r.{c["difference"]} - (r.{c["counted"]} - r.{c["expected"]})) > 0.5)
                 LIMIT 1) AS example_row
        FROM judged
        """
    ).df()
    return Probe(frame=frame, expectations=expectations, context={"columns": c})


SUGGESTION_COLUMNS: dict[str, tuple[str, ...]] = {
    "supplier_id": ("supplier_id",),
    "sku": ("sku",),
    "location_id": ("location_id",),
    "units": ("suggested_units",),
    "case_pack": ("case_pack",),
    "moq": ("moq",),
    "reorder_point": ("reorder_point_units",),
    "order_up_to": ("order_up_to_units",),
    "service_level": ("service_level",),
    "reason": ("reason",),
}


def probe_orderable_suggestions(con: duckdb.DuckDBPyConnection, qs: QualitySettings) -> Probe:
    """Per supplier: every suggested line is something the supplier can ship and a planner can
    read: units > 0, whole cases, at least the MOQ, reorder point ≤ order-up-to, a service
    level in (0, 1), a reason. One SKU-location once. A line that breaks these would go out
    to the supplier as a wrong purchase order once approved."""

    def rows(column: str, what: str):
        return lambda r: (
            f"supplier {r['supplier_id']}: {num_text(r[column])} suggested lines {what} "
            f"(e.g. {r['example_' + column] or '?'})"
        )

    checks = {
        "not_positive_rows": "with 0 or fewer units",
        "not_whole_cases_rows": "not in whole cases",
        "below_moq_rows": "below the MOQ",
        "reorder_point_above_order_up_to_rows": "whose reorder point is above the order-up-to level",
        "service_level_out_of_range_rows": "with a service level outside (0, 1)",
        "without_reason_rows": "without a reason",
        "duplicate_rows": "suggested twice for one SKU and location",
    }
    expectations = [
        Expect("ExpectColumnValuesToBeBetween", {"column": column, "max_value": 0},
               f"a suggested line {what}", rows(column, what))
        for column, what in checks.items()
    ]
    cols, why = resolve_columns(con, "marts", "replenishment_suggestions", SUGGESTION_COLUMNS)
    if cols is None:
        return _unavailable(why, expectations)
    c = cols
    conditions = {
        "not_positive_rows": f"{c['units']} IS NULL OR {c['units']} <= 0",
        "not_whole_cases_rows": f"{c['units']} % greatest({c['case_pack']}, 1) <> 0",
        "below_moq_rows": f"{c['units']} < coalesce({c['moq']}, 0)",
        "reorder_point_above_order_up_to_rows": f"{c['reorder_point']} > {c['order_up_to']}",
        "service_level_out_of_range_rows":
            f"{c['service_level']} IS NULL OR {c['service_level']} <= 0 OR {c['service_level']} >= 1",
        "without_reason_rows": f"coalesce(trim({c['reason']}), '') = ''",
        "duplicate_rows": "copies > 1",
    }
    measures = ",\n".join(
        f"count(*) FILTER (WHERE {cond}) AS {column}, "
        f"any_value(line) FILTER (WHERE {cond}) AS example_{column}"
        for column, cond in conditions.items()
    )
    frame = con.execute(
        f"""
        WITH lines AS (
            SELECT *, {c["sku"]} || ' at ' || {c["location_id"]} || ': ' || {c["units"]}
                      || ' units, case pack ' || {c["case_pack"]} || ', MOQ ' || {c["moq"]} AS line,
                   count(*) OVER (PARTITION BY {c["sku"]}, {c["location_id"]}) AS copies
            FROM marts.replenishment_suggestions
        )
        SELECT {c["supplier_id"]} AS supplier_id, count(*) AS lines,
               {measures}
        FROM lines GROUP BY ALL ORDER BY supplier_id
        """
    ).df()
    return Probe(frame=frame, expectations=expectations, context={"columns": c})


MARTS_CHECKS: list[QualityCheck] = [
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
    QualityCheck(
        "orderable",
        ("marts", "replenishment_suggestions"),
        True,  # a wrong line becomes a wrong purchase order once approved: stop it here
        "Suggested lines are whole cases, at least the MOQ, > 0, once per SKU-location, with a "
        "service level in (0, 1), reorder point ≤ order-up-to and a reason.",
        probe_orderable_suggestions,
    ),
]
