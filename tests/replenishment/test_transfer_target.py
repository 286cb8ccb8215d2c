"""The target of transfers before purchases, checked independently with plain SQL.

"No purchase for a SKU whose company-wide available stock covers its lead-time demand plus
safety stock": available = Σ over the SKU's locations of on hand − allocated − backorders
(what could be picked and moved today), covered = Σ over its locations of lead-time demand +
safety stock (= Σ reorder points). The one purchase the rule allows for such a SKU is the
one no location can serve in whole cases without falling to its own reorder point; its
reason must say so (docs/replenishment.md, "Transfers before purchases").
"""

from __future__ import annotations

import duckdb

# written here, independent of shelfwise's statements: marts.replenishment_policy and the
# suggestions only
COVERED_BUT_BOUGHT = """
WITH company AS (
    SELECT sku,
           sum(on_hand_units - allocated_units - backorder_units) AS available_units,
           sum(greatest(lead_time_demand_units, 0) + safety_stock_units) AS cover_units
    FROM marts.replenishment_policy
    GROUP BY sku
)
SELECT s.sku, s.location_id, s.suggested_units, c.available_units, c.cover_units, s.reason
FROM marts.replenishment_suggestions AS s
JOIN company AS c USING (sku)
WHERE c.available_units >= c.cover_units
ORDER BY s.sku, s.location_id
"""

# a location that could still give a whole case and stay above its reorder point, for a SKU
# bought somewhere: then the purchase was not needed
WHOLE_CASE_LEFT = """
WITH sent AS (
    SELECT sku, from_location_id AS location_id, sum(transfer_units) AS sent_units
    FROM marts.transfer_suggestions GROUP BY ALL
)
SELECT p.sku, p.location_id
FROM marts.replenishment_policy AS p
LEFT JOIN sent USING (sku, location_id)
WHERE NOT p.needs_order
  AND p.on_hand_units - p.allocated_units - p.backorder_units - coalesce(sent.sent_units, 0)
      - greatest(coalesce(p.case_pack, 1), 1) > p.reorder_point_units
  AND p.sku = ?
"""


def test_no_purchase_for_a_sku_the_company_already_holds(replenished, con):
    bought = con.sql(COVERED_BUT_BOUGHT).pl()
    for line in bought.iter_rows(named=True):
        # the only purchase allowed: no other location can spare a whole case above its
        # own reorder point, and the reason says so
        assert con.execute(WHOLE_CASE_LEFT, [line["sku"]]).fetchall() == [], line
        assert "no other location can spare" in line["reason"], line


def test_a_purchase_the_company_could_cover_says_why_it_is_bought():
    import polars as pl

    from assets.replenishment.transfers import note_transfers

    sized = pl.DataFrame({
        "reason": ["order 8", "order 4", "order 6"], "transfer_in_units": [0, 4, 0],
        "transfer_from": [None, "WH-BER 4", None], "company_free_units": [52.0, 20.0, None],
        "company_reorder_point_units": [32.0, 30.0, None], "case_pack": [4, 1, None]})
    reasons = note_transfers(sized)["reason"].to_list()
    assert reasons[0] == ("order 8; bought although the company holds 52 free, covering the sum "
                          "of its reorder points (32): no other location can spare a whole case "
                          "of 4 above its own reorder point")
    assert reasons[1] == ("order 4; the position counts 4 unit(s) coming by transfer (from "
                          "WH-BER 4), this order buys the rest")
    assert reasons[2] == "order 6"
