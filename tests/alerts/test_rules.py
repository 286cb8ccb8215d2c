"""The alert rules' SQL on small hand-made tables: one condition per test, numbers by hand."""

from __future__ import annotations

from datetime import timedelta

import pytest

from alerts_builder import (
    AS_OF, insert, new_warehouse, po_line, put_mart, receipt_row, stocked_world, story,
)
from assets.alerts import sql
from assets.alerts.config import AlertSettingsError, AlertThresholds, alert_settings
from assets.settings import load_settings


@pytest.fixture
def con():
    c = new_warehouse()
    stocked_world(c)
    yield c
    c.close()


def alerts(con, thresholds=None, **where):
    sql.build_alerts_current(con, thresholds or AlertThresholds())
    rows = con.sql("SELECT * FROM marts.alerts_current ORDER BY alert_key").pl().to_dicts()
    return [r for r in rows if all(r[k] == v for k, v in where.items())]


def keys(con, thresholds=None, **where):
    return {r["alert_key"]: r["severity"] for r in alerts(con, thresholds, **where)}


# ---------------------------------------------------------------- low stock


def low_stock_world(con, rows):
    put_mart(con, "replenishment_policy", [
        {"sku": r["sku"], "on_hand_units": r["ats"], "reorder_point_units": r["rop"],
         "projected_stockout_date": r.get("stockout"), "lead_time_mean_days": r.get("lead", 10.0),
         "days_of_cover": 5.0} for r in rows])
    put_mart(con, "ats_by_sku_location", [{"sku": r["sku"], "ats_units": r["ats"]} for r in rows])


def test_low_stock_below_reorder_point_is_a_warning_and_at_zero_critical(con):
    low_stock_world(con, [
        {"sku": "A", "ats": 3, "rop": 8.0},
        {"sku": "B", "ats": 0, "rop": 8.0},
        {"sku": "OK", "ats": 8, "rop": 8.0},  # at the reorder point: not below it
    ])
    assert keys(con, alert_type="low_stock") == {"low_stock:A:WH1": "warning",
                                                 "low_stock:B:WH1": "critical"}
    a = alerts(con, alert_key="low_stock:A:WH1")[0]
    # 5 units short of the reorder point, at 2.00 EUR each
    assert (a["units"], a["value_base"], a["metric_value"], a["threshold"]) == (5, 10.0, 3.0, 8.0)
    assert a["subject"] == "A at WH1" and a["as_of"] == AS_OF
    assert a["message"] == "A at WH1: ATS 3 units, reorder point 8, 0 on order"


def test_low_stock_when_the_stockout_comes_before_an_order_placed_today_could_arrive(con):
    low_stock_world(con, [
        # plenty above the reorder point, but out in 5 days and an order takes 10: critical
        {"sku": "A", "ats": 50, "rop": 8.0, "stockout": AS_OF + timedelta(days=5), "lead": 10.0},
        # out in 12 days, lead time 10: an order today still arrives in time
        {"sku": "B", "ats": 50, "rop": 8.0, "stockout": AS_OF + timedelta(days=12), "lead": 10.0},
    ])
    assert keys(con, alert_type="low_stock") == {"low_stock:A:WH1": "critical"}
    message = alerts(con, alert_key="low_stock:A:WH1")[0]["message"]
    assert "projected stockout 2026-04-05, before an order placed today could arrive" in message


def test_bundle_ats_rows_do_not_stand_in_for_the_item(con):
    low_stock_world(con, [{"sku": "A", "ats": 3, "rop": 8.0}])
    con.execute("INSERT INTO marts.ats_by_sku_location (as_of, sku, location_id, is_bundle, "
                "ats_units) VALUES (?, 'A', 'WH1', true, 100)", [AS_OF])
    assert keys(con, alert_type="low_stock") == {"low_stock:A:WH1": "warning"}


# ---------------------------------------------------------------- overstock, dead stock


def test_overstock_above_the_days_of_cover_limit_with_its_excess(con):
    put_mart(con, "replenishment_policy", [
        {"sku": "A", "on_hand_units": 400, "reorder_point_units": 5.0, "days_of_cover": 200.0,
         "mean_daily_demand_units": 2.0},
        {"sku": "B", "on_hand_units": 900, "reorder_point_units": 5.0, "days_of_cover": 450.0,
         "mean_daily_demand_units": 2.0},
        {"sku": "C", "on_hand_units": 100, "reorder_point_units": 5.0, "days_of_cover": 50.0},
        {"sku": "D", "on_hand_units": 100, "reorder_point_units": 5.0, "days_of_cover": None},
    ])
    put_mart(con, "ats_by_sku_location", [{"sku": s, "ats_units": 100} for s in "ABCD"])
    assert keys(con, alert_type="overstock") == {"overstock:A:WH1": "info",
                                                 "overstock:B:WH1": "warning"}
    a = alerts(con, alert_key="overstock:A:WH1")[0]
    # 180 days × 2 units a day = 360 needed: 40 units beyond the limit, 80.00 EUR
    assert (a["units"], a["value_base"], a["metric_value"]) == (40, 80.0, 200.0)


def test_dead_stock_reads_the_kpi_mart_and_warns_from_a_value(con):
    put_mart(con, "kpi_dead_stock_by_sku_location", [
        {"sku": "A", "on_hand_units": 10, "dead_stock_value_base": 20.0, "days_without_sale": 95},
        {"sku": "B", "on_hand_units": 600, "dead_stock_value_base": 1200.0,
         "days_without_sale": 200, "last_sold_on": AS_OF - timedelta(days=200)},
        {"sku": "C", "on_hand_units": 10, "dead_stock_value_base": 20.0, "days_without_sale": 95},
    ])
    assert keys(con, alert_type="dead_stock") == {"dead_stock:A:WH1": "info",
                                                  "dead_stock:B:WH1": "warning",
                                                  "dead_stock:C:WH1": "info"}
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


def test_oversell_risk_on_live_listings_critical_when_nothing_is_available(con):
    put_mart(con, "oversell_risk", [
        {"channel_id": "etsy", "channel_sku": "E-A", "sku": "A", "listed_quantity": 10,
         "ats_units": 4},
        {"channel_id": "ebay", "channel_sku": "B-A", "sku": "A", "listed_quantity": 3,
         "ats_units": 0},
        {"channel_id": "ebay", "channel_sku": "B-OLD", "sku": "A", "listed_quantity": 9,
         "ats_units": 0, "listing_status": "inactive"},
    ])
    assert keys(con, alert_type="oversell_risk") == {"oversell_risk:ebay:B-A": "critical",
                                                     "oversell_risk:etsy:E-A": "warning"}
    assert alerts(con, alert_key="oversell_risk:etsy:E-A")[0]["units"] == 6


def test_late_po_lines_with_units_still_due_in_both_currencies(con):
    insert(con, "purchase_orders", [
        po_line("PO-1", "A", 20, expected=AS_OF - timedelta(days=3)),     # 3 days late
        po_line("PO-1", "B", 20, expected=AS_OF - timedelta(days=9)),     # 9 days: critical
        po_line("PO-2", "A", 20, expected=AS_OF),                         # due today: not late
        po_line("PO-3", "A", 20, expected=AS_OF - timedelta(days=5)),     # fully received
        po_line("PO-4", "A", 20, expected=AS_OF - timedelta(days=5), status="closed"),
    ])
    insert(con, "receipts", [receipt_row("PO-1", "A", 5), receipt_row("PO-3", "A", 20)])
    assert keys(con, alert_type="late_po") == {"late_po:PO-1:A": "warning",
                                               "late_po:PO-1:B": "critical"}
    a = alerts(con, alert_key="late_po:PO-1:A")[0]
    # 15 of 20 units still due at 5.00 USD (4.50 EUR) each
    assert (a["units"], a["value"], a["currency"], a["value_base"]) == (15, 75.0, "USD", 67.5)
    assert (a["po_number"], a["supplier_id"], a["metric_value"]) == ("PO-1", "SUP", 3.0)
    assert keys(con, AlertThresholds(late_po_grace_days=3), alert_type="late_po") == {
        "late_po:PO-1:B": "critical"}


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
    sql.build_alerts_current(con, AlertThresholds())
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
