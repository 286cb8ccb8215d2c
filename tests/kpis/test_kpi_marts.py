"""KPI marts against numbers worked out by hand on the tiny core of conftest.py.

The core, in short (all orders placed 2026-01-10 00:00, UTC):

    line   sku qty  base    shipped after  promise     note
    O1-1   A   2    40.0    1 h (DHL,WH1)  +24 h       delivered +25 h; 1 unit returned (20.0)
    O1-2   A   1    20.0    2 h (UPS,WH1)  -           delivered 2026-01-12 12:00 (+60 h)
    O2-1   B   4    57.6    3 h (DHL,WH1)  +2 h: late  2 units returned, no refund (2 x 14.4)
    O2-2   B   1    14.4    4 h (DHL,WH1)  -
    O3-1   A   1    20.0    10 h (DHL,WH2) -
    O4-1   A   3    60.0    cancelled
    O5-1   B   2    28.8    never          +5 h: overdue
    O6-1   K   1    50.0    5 h (amz, DHL) -           K = 2 x A + 1 x D

So ship hours per line are 1, 2, 3, 4, 5, 10: median 3.5, p90 = 5 + 0.5 x (10 - 5) = 7.5
(linear); per order (the last line) 2, 4, 10 on web and 5 on amz.
"""

from __future__ import annotations

from datetime import date

import pytest

from assets.kpis.marts import MARTS_BY_NAME, KpiSettings, build_all, build_mart
from tests.kpis.conftest import event as parcel
from tests.kpis.conftest import h as hours_after_order
from tests.kpis.conftest import insert as insert_core
from tests.kpis.conftest import line as order_line

SETTINGS = KpiSettings(dead_stock_days=4, min_return_volume=4, turnover_window_days=90)


@pytest.fixture()
def kpis(tiny_core):
    build_all(tiny_core, SETTINGS)
    return tiny_core


def rows(con, sql: str, params=None) -> list[dict]:
    frame = con.sql(sql, params=params).pl()
    return frame.to_dicts()


def one(con, sql: str, params=None) -> dict:
    result = rows(con, sql, params)
    assert len(result) == 1, result
    return result[0]


def test_fulfillment_time_median_and_p90_of_known_delays(kpis):
    overall = one(kpis, """
        SELECT quantile_cont(hours_to_ship, 0.5) AS median, quantile_cont(hours_to_ship, 0.9) AS p90
        FROM marts.kpi_order_line_facts WHERE NOT is_cancelled""")
    assert overall == pytest.approx({"median": 3.5, "p90": 7.5})

    # per order (the headline): an order ships when its last line ships
    web = one(kpis, "FROM marts.kpi_fulfillment_time_daily WHERE channel_id = 'web'")
    # web orders: O1 lines after 1 and 2 h, O2 after 3 and 4 h, O3 after 10 h; O5 unshipped
    assert (web["order_date"], web["fulfilled_by"]) == (date(2026, 1, 10), "merchant")
    assert (web["orders"], web["orders_shipped"]) == (4, 3)
    assert web["median_hours_to_ship"] == pytest.approx(4.0)
    assert web["p90_hours_to_ship"] == pytest.approx(4 + 0.8 * (10 - 4))
    assert web["median_hours_to_first_ship"] == pytest.approx(3.0)
    # O1 is delivered when its second line is (+60 h); O2 has no delivery
    assert web["orders_delivered"] == 1
    assert web["median_hours_to_deliver"] == pytest.approx(60.0)

    weekly = rows(kpis, "FROM marts.kpi_fulfillment_time_weekly ORDER BY channel_id")
    assert [(r["order_week"], r["channel_id"], r["orders_shipped"]) for r in weekly] == [
        (date(2026, 1, 5), "amz", 1), (date(2026, 1, 5), "web", 3)]


def test_fulfillment_time_by_carrier_and_location(kpis):
    by = {(r["dimension"], r["value"]): r
          for r in rows(kpis, "FROM marts.kpi_fulfillment_time_by_dimension")}
    assert by[("carrier", "DHL")]["median_hours_to_ship"] == pytest.approx(4.0)  # 1,3,4,5,10
    assert by[("carrier", "UPS")]["lines_shipped"] == 1
    assert by[("location", "WH1")]["median_hours_to_ship"] == pytest.approx(3.0)  # 1,2,3,4,5
    assert by[("location", "WH2")]["median_hours_to_ship"] == pytest.approx(10.0)
    assert by[("channel", "amz")]["lines_shipped"] == 1


def test_on_time_ship_rate_counts_overdue_unshipped_lines_as_late(kpis):
    total = one(kpis, """
        SELECT sum(lines_due) AS due, sum(lines_on_time) AS on_time,
               sum(lines_shipped_late) AS late, sum(lines_overdue_unshipped) AS overdue
        FROM marts.kpi_on_time_ship_daily""")
    assert total == {"due": 3, "on_time": 1, "late": 1, "overdue": 1}


def test_fill_rate_is_shipped_over_ordered_units_of_due_lines(kpis):
    total = one(kpis, """SELECT sum(units_ordered) AS ordered, sum(units_shipped) AS shipped,
                                sum(lines_due) AS lines, sum(lines_filled) AS filled
                         FROM marts.kpi_fill_rate_daily""")
    # the cancelled O4 is out; the unshipped O5 is in (2 units ordered, 0 shipped)
    assert total == {"ordered": 12, "shipped": 10, "lines": 7, "filled": 6}
    web = one(kpis, "SELECT fill_rate FROM marts.kpi_fill_rate_daily WHERE channel_id = 'web'")
    assert web["fill_rate"] == pytest.approx(9 / 11)


def test_fill_rate_leaves_out_lines_still_in_their_shipping_window(kpis):
    # with a 3-day settle time, lines without a promise are not due at 2026-01-12 12:00
    build_mart(kpis, MARTS_BY_NAME["kpi_order_line_facts"], KpiSettings(settle_days=3))
    build_mart(kpis, MARTS_BY_NAME["kpi_fill_rate_daily"], SETTINGS)
    total = one(kpis, "SELECT sum(units_ordered) AS ordered FROM marts.kpi_fill_rate_daily")
    assert total["ordered"] == 2 + 4 + 2  # O1-1, O2-1, O5-1: the lines with a promise


def test_sales_orders_revenue_and_average_order_value(kpis):
    web = one(kpis, "FROM marts.kpi_sales_daily WHERE channel_id = 'web'")
    assert web["orders"] == 4  # O1, O2, O3, O5 (O4 is cancelled)
    assert web["revenue_base"] == pytest.approx(40 + 20 + 57.6 + 14.4 + 20 + 28.8)
    assert web["average_order_value_base"] == pytest.approx(180.8 / 4)
    assert (web["lines_cancelled"], web["units_cancelled"]) == (1, 3)


def test_return_rate_units_and_value(kpis):
    web = one(kpis, "FROM marts.kpi_return_rate_daily WHERE channel_id = 'web'")
    assert (web["units_shipped"], web["units_returned"]) == (9, 3)
    assert web["return_rate_units"] == pytest.approx(3 / 9)
    # returned value: the refund of R1 (20.0) and 2 x 14.4 for R2, which has no refund yet
    assert web["value_returned_base"] == pytest.approx(48.8)
    assert web["return_rate_value"] == pytest.approx(48.8 / 152.0)


def test_top_returned_products_need_the_minimum_volume(kpis):
    by_sku = {r["sku"]: r for r in rows(kpis, "FROM marts.kpi_return_rate_by_sku")}
    assert by_sku["B"]["return_rate_units"] == pytest.approx(2 / 5)
    assert by_sku["A"]["return_rate_units"] == pytest.approx(1 / 4)
    assert (by_sku["B"]["return_rate_rank"], by_sku["A"]["return_rate_rank"]) == (1, 2)
    assert by_sku["K"]["meets_min_volume"] is False and by_sku["K"]["return_rate_rank"] is None


def test_returns_by_reason_include_returns_of_unknown_lines(kpis):
    by_reason = {r["reason"]: r for r in rows(kpis, """
        SELECT reason, sum(units_returned) AS units, sum(value_returned_base) AS value
        FROM marts.kpi_returns_by_reason_daily GROUP BY reason""")}
    assert by_reason["size"]["units"] == 2 and by_reason["size"]["value"] == pytest.approx(25.0)
    assert by_reason["damaged"]["value"] == pytest.approx(28.8)


def test_stockout_days_count_zero_snapshots(kpis):
    a = one(kpis, "FROM marts.kpi_stockout_days_by_sku_location WHERE sku = 'A'")
    assert (a["days_observed"], a["stockout_days"], a["stockout_share"]) == (4, 2, 0.5)
    assert a["last_stockout_on"] == date(2026, 1, 12)
    day = one(kpis, "FROM marts.kpi_stockouts_daily WHERE snapshot_date = DATE '2026-01-11'")
    assert (day["skus_observed"], day["skus_out_of_stock"]) == (4, 1)


def test_unit_cost_converts_master_data_and_falls_back_to_the_po(kpis):
    cost = {r["sku"]: r for r in rows(kpis, "FROM marts.kpi_unit_cost_by_sku")}
    assert cost["A"]["unit_cost_base"] == pytest.approx(10.0)
    assert cost["B"]["unit_cost_base"] == pytest.approx(5.0 * 1.2)  # latest GBP rate
    assert cost["E"]["unit_cost_base"] == pytest.approx(8.4)
    assert cost["E"]["cost_source"] == "latest purchase order"


def test_turnover_and_days_of_supply(kpis):
    by_sku = {r["sku"]: r for r in rows(kpis, "FROM marts.kpi_inventory_turnover_by_sku")}
    assert set(by_sku) == {"A", "B", "C", "D"}  # the bundle holds no stock; E neither
    a = by_sku["A"]
    # window 2026-01-08..13 (6 days); A ships 4 units itself + 2 inside the kit
    assert (a["window_days"], a["units_shipped"], a["cogs_base"]) == (6, 6, 60.0)
    assert a["average_on_hand_units"] == pytest.approx((5 + 0 + 0 + 4) / 6)
    assert a["turnover_annualised"] == pytest.approx(60 * 365 / 6 / 15)
    assert a["days_of_supply"] == pytest.approx(4 / (6 / 6))
    b = by_sku["B"]
    assert b["turnover_annualised"] == pytest.approx(30 * 365 / 6 / 40)
    assert b["days_of_supply"] == pytest.approx(10 / (5 / 6))
    assert by_sku["C"]["turnover_annualised"] == 0 and by_sku["C"]["days_of_supply"] is None
    assert by_sku["D"]["units_shipped"] == 1


def test_dead_stock_counts_bundle_sales_as_component_sales(kpis):
    dead = rows(kpis, "FROM marts.kpi_dead_stock_by_sku_location")
    # C never sold and has been stocked 5 days (>= 4); D sold inside the kit 3 days ago
    assert [(r["sku"], r["on_hand_units"], r["dead_stock_value_base"]) for r in dead] == [
        ("C", 7, 21.0)]


def test_supplier_on_time_and_in_full(kpis):
    s1 = one(kpis, "FROM marts.kpi_supplier_on_time_monthly")
    assert s1["expected_month"] == date(2026, 1, 1) and s1["supplier_id"] == "S1"
    assert (s1["po_lines_due"], s1["po_lines_on_time"], s1["po_lines_on_time_in_full"],
            s1["po_lines_overdue_unreceived"]) == (4, 2, 1, 1)
    assert s1["on_time_rate"] == pytest.approx(0.5)
    assert s1["average_days_late_when_late"] == pytest.approx(2.0)


def test_marts_are_deterministic(kpis):
    before = rows(kpis, "FROM marts.kpi_order_line_facts ORDER BY channel_id, order_id, line_id")
    build_all(kpis, SETTINGS)
    after = rows(kpis, "FROM marts.kpi_order_line_facts ORDER BY channel_id, order_id, line_id")
    assert before == after


def test_accuracy_kpis_only_when_their_source_marts_exist(kpis):
    from assets.kpis.accuracy import DERIVED, build_derived

    record, forecast = DERIVED
    assert build_derived(kpis, record)[0] is None  # no inventory mart yet: nothing computed
    kpis.execute("""
        CREATE TABLE marts.inventory_record_accuracy AS
        SELECT * FROM (VALUES
            (DATE '2026-01-12', 'WH1', 10, 9, 0.9, 5.0),
            (DATE '2026-01-13', 'WH1', 10, 6, 0.6, 7.0),
            (DATE '2026-01-13', 'WH2', 5, 5, 1.0, 0.0))
        AS t(snapshot_date, location_id, sku_locations, within_tolerance, accuracy,
             abs_difference_value_base)""")
    rows, _ = build_derived(kpis, record)
    assert rows == 2
    wh1 = one(kpis, """FROM marts.kpi_inventory_record_accuracy_weekly
                       WHERE location_id = 'WH1'""")
    assert wh1["snapshot_week"] == date(2026, 1, 12)
    assert wh1["record_accuracy"] == pytest.approx(15 / 20)  # pooled, not a mean of ratios

    kpis.execute("""CREATE TABLE marts.forecast_accuracy AS SELECT * FROM (VALUES
        ('ets', 'A', 100.0, 110.0, 20.0), ('ets', 'B', 2.0, 6.0, 4.0),
        ('croston', 'C', 10.0, 10.0, 5.0))
        AS t(model, sku, actual, forecast, abs_error)""")
    assert build_derived(kpis, forecast)[0] == 2
    ets = one(kpis, "FROM marts.kpi_forecast_accuracy_summary WHERE model = 'ets'")
    # weighted by volume: (20 + 4) / 102 and 116 / 102 − 1, not the mean of 0.2 and 2.0
    assert (ets["series"], ets["actual_units"]) == (2, 102.0)
    assert (ets["wape"], ets["bias"]) == (pytest.approx(24 / 102), pytest.approx(116 / 102 - 1))
    kpis.execute("DROP TABLE marts.forecast_accuracy")
    assert build_derived(kpis, forecast)[0] is None  # a stale summary is dropped, not served
    assert not rows_exist(kpis, "kpi_forecast_accuracy_summary")


def rows_exist(con, table: str) -> bool:
    return bool(con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'marts' "
        "AND table_name = ?", [table]).fetchall()[0][0])


def test_an_order_with_five_lines_counts_once_at_its_last_line(tiny_core):
    from tests.kpis.conftest import event, h, insert, line

    insert(tiny_core, "order_lines", [line("O9", str(i), "A", 1, 20.0) for i in range(1, 6)])
    insert(tiny_core, "fulfillment_events", [
        event("O9", str(i), "A", 1, "shipped", h(hours)) for i, hours in
        enumerate((30, 31, 32, 33, 40), start=1)])
    build_all(tiny_core, SETTINGS)
    order = one(tiny_core, """SELECT * FROM marts.kpi_order_facts WHERE order_id = 'O9'""")
    assert (order["lines"], order["hours_to_ship"], order["hours_to_first_ship"]) == (5, 40, 30)
    web = one(tiny_core, """FROM marts.kpi_fulfillment_time_daily
                            WHERE channel_id = 'web' AND fulfilled_by = 'merchant'""")
    # per order: O1 (last line 2 h), O2 (4 h), O3 (10 h), O9 (40 h); O5 never shipped
    assert web["orders_shipped"] == 4
    assert web["median_hours_to_ship"] == pytest.approx((4 + 10) / 2)
    assert web["median_hours_to_first_ship"] == pytest.approx((3 + 10) / 2)
    sales = one(tiny_core, "FROM marts.kpi_sales_daily WHERE channel_id = 'web'")
    assert (sales["orders"], sales["lines"]) == (5, 11)


def test_store_sales_are_counted_but_not_shipments(tiny_core):
    from tests.kpis.conftest import T0, insert, line

    insert(tiny_core, "channels", [dict(channel_id="till", name="Store", channel_type="pos",
                                        currency="EUR", safety_buffer_units=0,
                                        safety_buffer_pct=0.0)])
    till = line("P1", "1", "A", 1, 20.0, channel="till", status="delivered")
    insert(tiny_core, "order_lines", [dict(till, shipped_at=T0, delivered_at=T0)])
    build_all(tiny_core, SETTINGS)
    store = one(tiny_core, "FROM marts.kpi_fulfillment_time_daily WHERE channel_id = 'till'")
    assert store["fulfilled_by"] == "store"
    assert (store["orders"], store["orders_shipped"]) == (1, 0)
    assert store["median_hours_to_ship"] is None and store["median_hours_to_deliver"] is None
    lines = one(tiny_core, """SELECT count(*) AS n FROM marts.kpi_fulfillment_time_by_dimension
                              WHERE dimension = 'channel' AND value = 'till'""")
    assert lines["n"] == 0


def test_revenue_without_fx_rate_stays_unknown_not_zero(tiny_core):
    from tests.kpis.conftest import insert, line

    brl = dict(line("B1", "1", "A", 2, 99.0, channel="br"), currency="BRL",
               line_amount_base=None, unit_price_base=None)
    insert(tiny_core, "order_lines", [brl])
    build_all(tiny_core, SETTINGS)
    br = one(tiny_core, "FROM marts.kpi_sales_daily WHERE channel_id = 'br'")
    assert br["orders"] == 1 and br["revenue_base"] is None and br["orders_unconverted"] == 1
    left = one(tiny_core, "FROM marts.kpi_unconverted_revenue")
    assert (left["channel_id"], left["currency"], left["orders"]) == ("br", "BRL", 1)
    assert left["revenue"] == pytest.approx(99.0)


def test_days_are_local_days_of_the_reporting_time_zone(tiny_core):
    # every order is placed at 2026-01-10 00:00 UTC: 2026-01-09 21:00 in Sao Paulo
    build_all(tiny_core, KpiSettings(timezone="America/Sao_Paulo"))
    days = {r["order_date"] for r in rows(tiny_core, "FROM marts.kpi_sales_daily")}
    assert days == {date(2026, 1, 9)}
    with pytest.raises(ValueError, match="timezone"):
        KpiSettings.from_settings(_settings_with(timezone="Mars/Olympus"))


def _settings_with(**kpis):
    from pathlib import Path

    from assets.settings import Settings

    return Settings(home=Path("."), extra={"kpis": kpis})


def test_events_with_another_line_id_link_by_order_and_sku(tiny_core):
    # Amazon's report has no item id (line_id = SKU) while the warehouse's shipment events
    # carry the platform's item id: the order and its (unique) SKU still name the line
    from tests.kpis.conftest import event, h, insert, line

    insert(tiny_core, "order_lines", [line("A1", "B", "B", 1, 14.4, channel="amz")])
    insert(tiny_core, "fulfillment_events", [
        event("A1", "11000001609734", "B", 1, "shipped", h(7), channel="amz")])
    build_all(tiny_core, SETTINGS)
    a1 = one(tiny_core, "FROM marts.kpi_order_facts WHERE order_id = 'A1'")
    assert (a1["hours_to_ship"], a1["is_shipped"]) == (7, True)


def test_two_lines_of_one_sku_each_keep_their_own_shipment_and_return(tiny_core):
    """The web shop prints its item ids (900, 901) on shipments and returns, never the order
    export's positions (1, 2): the n-th item id of a SKU in the order is its n-th line."""
    insert_core(tiny_core, "order_lines", [order_line("O7", "1", "C", 3, 9.0),
                                           order_line("O7", "2", "C", 1, 3.0)])
    insert_core(tiny_core, "fulfillment_events", [
        parcel("O7", "901", "C", 1, "shipped", hours_after_order(30), shipment="S-O7-b"),
        parcel("O7", "900", "C", 3, "shipped", hours_after_order(6), shipment="S-O7-a"),
    ])
    insert_core(tiny_core, "returns", [dict(
        rma_id="R9", channel_id="web", order_id="O7", line_id="901", sku="C", quantity=1,
        reason="size", requested_at=hours_after_order(60), updated_at=hours_after_order(60))])
    build_all(tiny_core, SETTINGS)
    got = rows(tiny_core, "SELECT line_id, shipped_units, hours_to_ship, returned_units "
                          "FROM marts.kpi_order_line_facts WHERE order_id = 'O7' ORDER BY 1")
    assert got == [dict(line_id="1", shipped_units=3, hours_to_ship=6.0, returned_units=0),
                   dict(line_id="2", shipped_units=1, hours_to_ship=30.0, returned_units=1)]
    order = rows(tiny_core, "SELECT hours_to_ship FROM marts.kpi_order_facts "
                            "WHERE order_id = 'O7'")
    assert order == [dict(hours_to_ship=30.0)]
