"""Quality check beside the replenishment suggestions: every suggested line is orderable.

A Great Expectations suite run as a Dagster asset check by the shared runner
(:mod:`assets.quality.runner`; docs/data-quality.md), over the columns of
``marts.replenishment_suggestions`` (:mod:`assets.replenishment.tables`). Blocking: an approved
line becomes a purchase order, so a line the supplier cannot ship stops the decisions import,
the restock files and the snapshot of that run.
"""

from __future__ import annotations

import duckdb

from assets.quality.runner import asset_checks
from assets.quality.specs import (
    Probe,
    QualityCheck,
    QualitySettings,
    none_of,
    num_text,
    table_probe,
)

# what the probe reads, by role: shown in the check's metadata (context_columns)
SUGGESTION_COLUMNS = {
    "supplier_id": "supplier_id", "sku": "sku", "location_id": "location_id",
    "units": "suggested_units", "case_pack": "case_pack", "moq": "moq",
    "reorder_point": "reorder_point_units", "order_up_to": "order_up_to_units",
    "service_level": "service_level", "reason": "reason",
}

# probe frame column -> what a failing line is, in words
UNORDERABLE = {
    "not_positive_rows": "with 0 or fewer units",
    "not_whole_cases_rows": "not in whole cases",
    "below_moq_rows": "below the MOQ",
    "reorder_point_above_order_up_to_rows": "whose reorder point is above the order-up-to level",
    "service_level_out_of_range_rows": "with a service level outside (0, 1)",
    "without_reason_rows": "without a reason",
    "duplicate_rows": "suggested twice for one SKU and location",
}

ORDERABLE_SQL = """
WITH lines AS (
    SELECT *,
           sku || ' at ' || location_id || ': ' || suggested_units
             || ' units, case pack ' || case_pack || ', MOQ ' || moq AS line,
           count(*) OVER (PARTITION BY sku, location_id) AS copies
    FROM marts.replenishment_suggestions
),
judged_lines AS (
    SELECT supplier_id, line,
           suggested_units IS NULL OR suggested_units <= 0 AS not_positive,
           suggested_units % greatest(case_pack, 1) <> 0 AS not_whole_cases,
           suggested_units < coalesce(moq, 0) AS below_moq,
           reorder_point_units > order_up_to_units AS reorder_point_above_order_up_to,
           service_level IS NULL OR service_level <= 0 OR service_level >= 1
               AS service_level_out_of_range,
           coalesce(trim(reason), '') = '' AS without_reason,
           copies > 1 AS duplicate
    FROM lines
)
SELECT supplier_id, count(*) AS lines,
       count(*) FILTER (WHERE not_positive) AS not_positive_rows,
       any_value(line) FILTER (WHERE not_positive) AS example_not_positive_rows,
       count(*) FILTER (WHERE not_whole_cases) AS not_whole_cases_rows,
       any_value(line) FILTER (WHERE not_whole_cases) AS example_not_whole_cases_rows,
       count(*) FILTER (WHERE below_moq) AS below_moq_rows,
       any_value(line) FILTER (WHERE below_moq) AS example_below_moq_rows,
       count(*) FILTER (WHERE reorder_point_above_order_up_to)
           AS reorder_point_above_order_up_to_rows,
       any_value(line) FILTER (WHERE reorder_point_above_order_up_to)
           AS example_reorder_point_above_order_up_to_rows,
       count(*) FILTER (WHERE service_level_out_of_range) AS service_level_out_of_range_rows,
       any_value(line) FILTER (WHERE service_level_out_of_range)
           AS example_service_level_out_of_range_rows,
       count(*) FILTER (WHERE without_reason) AS without_reason_rows,
       any_value(line) FILTER (WHERE without_reason) AS example_without_reason_rows,
       count(*) FILTER (WHERE duplicate) AS duplicate_rows,
       any_value(line) FILTER (WHERE duplicate) AS example_duplicate_rows
FROM judged_lines GROUP BY supplier_id ORDER BY supplier_id
"""


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

    expectations = [
        none_of(column, f"a suggested line {what}", rows(column, what))
        for column, what in UNORDERABLE.items()
    ]
    return table_probe(con, "marts", "replenishment_suggestions", SUGGESTION_COLUMNS,
                       ORDERABLE_SQL, expectations)


QUALITY_CHECKS: list[QualityCheck] = [
    QualityCheck(
        "orderable",
        ("marts", "replenishment_suggestions"),
        True,  # a wrong line becomes a wrong purchase order once approved: stop it here
        "Suggested lines are whole cases, at least the MOQ, > 0, once per SKU-location, with a "
        "service level in (0, 1), reorder point ≤ order-up-to and a reason.",
        probe_orderable_suggestions,
    ),
]

CHECKS = asset_checks(QUALITY_CHECKS)
