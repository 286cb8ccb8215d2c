"""The alert rules' SQL on small hand-made tables: one condition per test, numbers by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts_builder import (
    AS_OF, at, insert, new_warehouse, po_line, put_mart, receipt_row, stocked_world, story,
)
from assets.alerts import rules as alert_rules
from assets.alerts.config import AlertSettingsError, AlertThresholds, alert_settings
from assets.settings import load_settings


@pytest.fixture
def con():
    c = new_warehouse()
    stocked_world(c)
    yield c
    c.close()


def alerts(con, thresholds=None, **where):
    alert_rules.build_alerts_current(con, thresholds or AlertThresholds())
    rows = con.sql("SELECT * FROM marts.alerts_current ORDER BY alert_key").pl().to_dicts()
    return [r for r in rows if all(r[k] == v for k, v in where.items())]


def keys(con, thresholds=None, **where):
    return {r["alert_key"]: r["severity"] for r in alerts(con, thresholds, **where)}


# ---------------------------------------------------------------- low stock


def low_stock_world(con, rows):
    put_mart(con, "replenishment_policy", [
        {"sku": r["sku"], "on_hand_units": r["ats"], "reorder_point_units": r.get("rop", 8.0),
         "projected_stockout_date": r.get("stockout"), "lead_time_mean_days": r.get("lead", 10.0),
         "days_of_cover": 5.0, "mean_daily_demand_units": r.get("demand", 3.0),
         "unit_cost_base": r.get("cost", 4.0)} for r in rows])
    put_mart(con, "ats_by_sku_location", [{"sku": r["sku"], "ats_units": r["ats"]} for r in rows])


def test_low_stock_alerts_only_a_stockout_an_order_placed_today_cannot_prevent(con):
    low_stock_world(con, [
        # nothing left: critical; 10 days of lead time × 3 units lost
        {"sku": "A", "ats": 0, "stockout": AS_OF},
        # out in 5 days, an order takes 10: critical (within low_stock_critical_days)
        {"sku": "B", "ats": 15, "stockout": AS_OF + timedelta(days=5)},
        # out in 8 days, an order takes 20: a warning (12 days of sales lost)
        {"sku": "C", "ats": 24, "stockout": AS_OF + timedelta(days=8), "lead": 20.0},
        # below its reorder point, but an order today arrives before the stockout: the
        # replenishment suggestion covers it, no alert
        {"sku": "D", "ats": 3, "rop": 40.0, "stockout": AS_OF + timedelta(days=12)},
        # out in 9 days, an order takes 10: 1 day × 3 units × 4.00 = 12.00 lost, under
        # low_stock_min_value: not worth a person's time
        {"sku": "E", "ats": 27, "stockout": AS_OF + timedelta(days=9)},
        # no demand: nothing to lose
        {"sku": "F", "ats": 0, "stockout": AS_OF, "demand": 0.0},
    ])
    assert keys(con, alert_type="low_stock") == {"low_stock:A:WH1": "critical",
                                                 "low_stock:B:WH1": "critical",
                                                 "low_stock:C:WH1": "warning"}
    a = alerts(con, alert_key="low_stock:A:WH1")[0]
    # no selling price known: a lost sale costs at least the unit cost (4.00)
    assert (a["units"], a["value_base"], a["metric_value"], a["threshold"]) == (30, 120.0, 0, 10)
    assert a["subject"] == "A at WH1" and a["as_of"] == AS_OF
    assert a["message"] == ("A at WH1: ATS 0 units, 0 on order; out of stock now, before an "
                            "order placed today could arrive (lead time 10 days): about 30 "
                            "units of sales lost, 120.00 EUR of margin")
    c = alerts(con, alert_key="low_stock:C:WH1")[0]
    assert (c["units"], c["value_base"]) == (36, 144.0)
    assert "projected stockout 2026-04-08 (in 8 days)" in c["message"]


def test_low_stock_a_week_away_that_a_transfer_covers_is_not_an_alert(con):
    low_stock_world(con, [
        # out in 8 days at WH1, an order takes 20: 36 units short; WH2 holds 92 spare
        {"sku": "A", "ats": 24, "stockout": AS_OF + timedelta(days=8), "lead": 20.0},
        # the same at WH1 for B, but nothing spare elsewhere
        {"sku": "B", "ats": 24, "stockout": AS_OF + timedelta(days=8), "lead": 20.0},
    ])
    con.execute("INSERT INTO marts.replenishment_policy BY NAME SELECT * REPLACE "
                "('WH2' AS location_id, 100 AS on_hand_units, NULL::DATE AS "
                "projected_stockout_date) FROM marts.replenishment_policy WHERE sku = 'A'")
    con.execute("INSERT INTO marts.ats_by_sku_location BY NAME SELECT * REPLACE "
                "('WH2' AS location_id, 100 AS ats_units) FROM marts.ats_by_sku_location "
                "WHERE sku = 'A'")
    assert keys(con, alert_type="low_stock") == {"low_stock:B:WH1": "warning"}


def test_low_stock_values_a_lost_sale_at_its_margin_and_ranks_by_money(con):
    low_stock_world(con, [{"sku": "A", "ats": 0, "stockout": AS_OF},
                          {"sku": "B", "ats": 0, "stockout": AS_OF, "cost": 9.0}])
    insert(con, "order_lines", [
        {"channel_id": "web", "order_id": "O1", "line_id": "1", "channel_sku": "A", "sku": "A",
         "quantity": 1, "unit_price": 10.0, "unit_price_base": 10.0, "currency": "EUR",
         "line_amount": 10.0, "line_amount_base": 10.0, "status": "shipped",
         "ordered_at": at(1), "updated_at": at(1)}])
    rows = alerts(con, alert_type="low_stock")
    # A sells at 10.00 for a cost of 4.00: 30 lost units × 6.00; B: no price, 30 × 9.00
    assert {r["sku"]: r["value_base"] for r in rows} == {"A": 180.0, "B": 270.0}
    alert_rules.build_alerts_current(con, AlertThresholds())
    order = [k for (k,) in con.execute("SELECT alert_key FROM marts.alerts_current").fetchall()]
    assert order == ["low_stock:B:WH1", "low_stock:A:WH1"]  # most money at risk first


def test_bundle_ats_rows_do_not_stand_in_for_the_item(con):
    low_stock_world(con, [{"sku": "A", "ats": 0, "stockout": AS_OF}])
    con.execute("INSERT INTO marts.ats_by_sku_location (as_of, sku, location_id, is_bundle, "
                "ats_units) VALUES (?, 'A', 'WH1', true, 100)", [AS_OF])
    assert keys(con, alert_type="low_stock") == {"low_stock:A:WH1": "critical"}


# ---------------------------------------------------------------- overstock, dead stock


def test_overstock_is_a_warning_when_a_year_of_cover_ties_up_real_money(con):
    put_mart(con, "replenishment_policy", [
        # 200 days of cover: under a year, no alert
        {"sku": "A", "on_hand_units": 400, "reorder_point_units": 5.0, "days_of_cover": 200.0,
         "mean_daily_demand_units": 2.0, "unit_cost_base": 50.0},
        # 450 days: 900 − 180 × 2 = 540 units beyond the limit at 5.00 = 2,700 tied up
        {"sku": "B", "on_hand_units": 900, "reorder_point_units": 5.0, "days_of_cover": 450.0,
         "mean_daily_demand_units": 2.0, "unit_cost_base": 5.0},
        # 450 days, but only 540 × 2.00 = 1,080 tied up: under overstock_min_value
        {"sku": "C", "on_hand_units": 900, "reorder_point_units": 5.0, "days_of_cover": 450.0,
         "mean_daily_demand_units": 2.0},
        {"sku": "D", "on_hand_units": 100, "reorder_point_units": 5.0, "days_of_cover": None},
    ])
    put_mart(con, "ats_by_sku_location", [{"sku": s, "ats_units": 100} for s in "ABCD"])
    assert keys(con, alert_type="overstock") == {"overstock:B:WH1": "warning"}
    b = alerts(con, alert_key="overstock:B:WH1")[0]
    assert (b["units"], b["value_base"], b["metric_value"]) == (540, 2700.0, 450.0)
    assert keys(con, AlertThresholds(overstock_min_value=1000.0), alert_type="overstock") == {
        "overstock:B:WH1": "warning", "overstock:C:WH1": "warning"}


def test_dead_stock_alerts_from_a_value(con):
    put_mart(con, "kpi_dead_stock_by_sku_location", [
        {"sku": "A", "on_hand_units": 10, "dead_stock_value_base": 20.0, "days_without_sale": 95},
        {"sku": "B", "on_hand_units": 600, "dead_stock_value_base": 1200.0,
         "days_without_sale": 200, "last_sold_on": AS_OF - timedelta(days=200)},
        {"sku": "C", "on_hand_units": 500, "dead_stock_value_base": 1000.0,
         "days_without_sale": 95},
    ])
    assert keys(con, alert_type="dead_stock") == {"dead_stock:B:WH1": "warning",
                                                  "dead_stock:C:WH1": "warning"}
    t = AlertThresholds(no_sale_days=100)
    assert keys(con, t, alert_type="dead_stock") == {"dead_stock:B:WH1": "warning"}
    b = alerts(con, alert_key="dead_stock:B:WH1")[0]
    assert b["message"] == ("B at WH1: no sale in 200 days (last 2025-09-12), "
                            "600 units on hand worth 1,200.00 EUR")


# ---------------------------------------------------------------- discrepancies


def test_a_large_break_on_the_latest_count_alerts_and_a_later_good_count_clears_it(con):
    put_mart(con, "reconciliation", [
        # A: off by 20 units (value small): alerts on units
        {"sku": "A", "expected_on_hand": 60, "counted_on_hand": 40,
         "difference_value_base": -40.0, "within_tolerance": False},
        # B: off by 3 units, worth 1,500: critical on value
        {"sku": "B", "expected_on_hand": 10, "counted_on_hand": 7,
         "difference_value_base": -1500.0, "within_tolerance": False},
        # C: off by 3 units worth 6: outside tolerance, but below both alert limits
        {"sku": "C", "expected_on_hand": 10, "counted_on_hand": 13,
         "difference_value_base": 6.0, "within_tolerance": False},
        # E: a big break yesterday, a good count today: nothing now
        {"sku": "E", "snapshot_date": AS_OF - timedelta(days=1), "expected_on_hand": 90,
         "counted_on_hand": 40, "difference_value_base": -100.0, "within_tolerance": False},
        {"sku": "E", "expected_on_hand": 40, "counted_on_hand": 40,
         "difference_value_base": 0.0, "within_tolerance": True},
    ])
    assert keys(con, alert_type="discrepancy") == {"discrepancy:A:WH1": "warning",
                                                   "discrepancy:B:WH1": "critical"}
    a = alerts(con, alert_key="discrepancy:A:WH1")[0]
    assert (a["units"], a["value_base"]) == (-20, -40.0)
    assert a["message"] == ("A at WH1: counted 40, expected 60 on 2026-03-31 (-20 units, "
                            "-40.00 EUR); likely cause: unexplained")


# ---------------------------------------------------------------- oversell, late POs


def test_oversell_risk_is_one_alert_per_sku_critical_when_a_channel_has_nothing(con):
    put_mart(con, "oversell_risk", [
        {"channel_id": "etsy", "channel_sku": "E-A", "sku": "A", "listed_quantity": 10,
         "ats_units": 4},
        {"channel_id": "ebay", "channel_sku": "B-A", "sku": "A", "listed_quantity": 3,
         "ats_units": 0},
        {"channel_id": "ebay", "channel_sku": "B-OLD", "sku": "A", "listed_quantity": 9,
         "ats_units": 0, "listing_status": "inactive"},
        # 6 too many of 100: a stale listing the next availability feed corrects
        {"channel_id": "etsy", "channel_sku": "E-B", "sku": "B", "listed_quantity": 106,
         "ats_units": 100},
        # 8 too many of 10: a warning
        {"channel_id": "etsy", "channel_sku": "E-C", "sku": "C", "listed_quantity": 18,
         "ats_units": 10},
    ])
    assert keys(con, alert_type="oversell_risk") == {"oversell_risk:A": "critical",
                                                     "oversell_risk:C": "warning"}
    a = alerts(con, alert_key="oversell_risk:A")[0]
    assert (a["units"], a["subject"]) == (9, "A on ebay, etsy")
    assert a["message"] == ("A: listed beyond what is available to sell on ebay (B-A: listed 3, "
                            "available 0); etsy (E-A: listed 10, available 4)")


def test_late_po_lines_are_one_alert_per_sku_location(con):
    insert(con, "purchase_orders", [
        po_line("PO-1", "A", 20, expected=AS_OF - timedelta(days=3)),     # 3 days late
        po_line("PO-1", "B", 20, expected=AS_OF - timedelta(days=9)),     # 9 days: critical
        po_line("PO-2", "A", 20, expected=AS_OF),                         # due today: not late
        po_line("PO-3", "A", 20, expected=AS_OF - timedelta(days=5)),     # fully received
        po_line("PO-4", "A", 20, expected=AS_OF - timedelta(days=5), status="closed"),
        po_line("PO-5", "A", 10, expected=AS_OF - timedelta(days=2)),     # 2 days late
    ])
    insert(con, "receipts", [receipt_row("PO-1", "A", 5), receipt_row("PO-3", "A", 20)])
    assert keys(con, alert_type="late_po") == {"late_po:A:WH1": "warning",
                                               "late_po:B:WH1": "critical"}
    a = alerts(con, alert_key="late_po:A:WH1")[0]
    # 15 + 10 units still due at 5.00 USD (4.50 EUR) each
    assert (a["units"], a["value"], a["currency"], a["value_base"]) == (25, 125.0, "USD", 112.5)
    assert (a["po_number"], a["supplier_id"], a["metric_value"]) == ("PO-1, PO-5", "SUP", 3.0)
    assert a["message"].startswith("PO-1 A from SUP: 15 of 20 units still due")
    assert keys(con, AlertThresholds(late_po_grace_days=3), alert_type="late_po") == {
        "late_po:B:WH1": "critical"}


# ---------------------------------------------------------------- missing inputs


def test_rules_whose_inputs_are_missing_are_skipped_and_say_why(con):
    # only core exists: late POs run, everything reading a mart is skipped
    assert alerts(con) == []
    rules = {r[0]: r[1:] for r in con.execute(
        "SELECT alert_type, evaluated, skipped_reason FROM marts.alert_rules").fetchall()}
    assert rules["late_po"] == (True, None)
    assert rules["low_stock"] == (False, "marts.replenishment_policy not built yet")
    assert rules["discrepancy"] == (False, "marts.reconciliation not built yet")
    con.execute("CREATE TABLE marts.reconciliation (sku VARCHAR)")
    alert_rules.build_alerts_current(con, AlertThresholds())
    reason = con.execute("SELECT skipped_reason FROM marts.alert_rules "
                         "WHERE alert_type = 'discrepancy'").fetchall()[0][0]
    assert reason.startswith("marts.reconciliation lacks counted_on_hand")


def test_every_kind_at_once_ordered_most_severe_first():
    con = new_warehouse()
    story(con)
    rows = alerts(con)
    assert {r["alert_type"] for r in rows} == {"low_stock", "overstock", "dead_stock",
                                               "discrepancy", "oversell_risk", "late_po"}
    ranks = con.execute("SELECT severity_rank FROM marts.alerts_current").fetchall()
    assert ranks == sorted(ranks, reverse=True)
    assert all(r["message"] and r["as_of"] == AS_OF for r in rows)


# ---------------------------------------------------------------- settings


def settings_with(tmp_path, text):
    (tmp_path / "shelfwise.toml").write_text(text)
    return load_settings(tmp_path)


def test_defaults_and_the_jsonl_sink_is_on_by_default(tmp_path):
    alerts_cfg = alert_settings(load_settings(tmp_path))
    assert alerts_cfg.thresholds == AlertThresholds()
    assert [s.kind for s in alerts_cfg.enabled_sinks] == ["jsonl"]


def test_dead_stock_days_follow_the_kpi_and_cannot_undercut_it(tmp_path):
    cfg = alert_settings(settings_with(tmp_path, "[kpis]\ndead_stock_days = 30\n"))
    assert cfg.thresholds.no_sale_days == 30
    with pytest.raises(AlertSettingsError, match=r"no_sale_days = 20: must be >= \[kpis\]"):
        alert_settings(settings_with(tmp_path, "[alerts]\nno_sale_days = 20\n"
                                               "[kpis]\ndead_stock_days = 30\n"))


@pytest.mark.parametrize("text,message", [
    ("[alerts]\ndiscrepancy_units = 'ten'\n",
     r"\[alerts\] discrepancy_units = 'ten': expected a whole number"),
    ("[alerts]\nlow_stock_days = 3\n", r"unknown key\(s\) low_stock_days"),
    ("[alerts.webhook]\nmin_severity = 'warning'\n", r"\[alerts.webhook\]: set url"),
    ("[alerts.webhook]\nurl = 'http://x'\nmin_severity = 'loud'\n", r"min_severity = 'loud'"),
    ("[alerts.email]\nhost = 'smtp'\n", r"\[alerts.email\]: host, from_addr and to are required"),
    ("[alerts.email]\nhots = 'smtp'\n", r"\[alerts.email\]: unknown key\(s\) hots"),
])
def test_bad_settings_name_the_table_and_key(tmp_path, text, message):
    with pytest.raises(AlertSettingsError, match=message):
        alert_settings(settings_with(tmp_path, text))
