"""The Replenishment page under AppTest: suggestions from the snapshot, decisions through the
decision store only, shown at once; every test has its own home (``planner_env``)."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import polars as pl
import pytest
from streamlit.testing.v1 import AppTest

from assets.decisions.store import DecisionStore
from assets.outbox import record_manifest, write_atomic

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "app.py")


def open_page() -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    at.switch_page("views/replenishment.py")
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def snapshot_rows(home: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(home / "serving" / "serving.duckdb"), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def table(at: AppTest):
    return at.data_editor[0].value


def open_detail(at: AppTest, suggestion_id: str) -> AppTest:
    """Click the row of ``suggestion_id`` in the suggestions table, as the browser would."""
    grid = next(d for d in at.dataframe if (d.key or "").startswith("repl_table_"))
    position = list(grid.value["suggestion_id"]).index(suggestion_id)
    at.session_state[grid.key] = {"selection": {"rows": [position], "columns": [], "cells": []}}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def edit(at: AppTest, rows: dict[int, dict]) -> AppTest:
    """Tick/edit cells of the suggestions editor the way the browser would."""
    at.session_state[at.data_editor[0].key] = {
        "edited_rows": rows, "added_rows": [], "deleted_rows": []}
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_suggestions_in_urgency_order_with_reasons_and_policy(planner_env):
    at = open_page()
    expected = snapshot_rows(planner_env, "SELECT suggestion_id, urgency_rank, reason FROM "
                             "marts.replenishment_suggestions ORDER BY urgency_rank")
    shown = table(at)
    assert list(shown["suggestion_id"]) == [r[0] for r in expected]
    assert list(shown["urgency_rank"]) == sorted(r[1] for r in expected)
    assert list(shown["reason"]) == [r[2] for r in expected]
    assert set(shown["status"]) == {"proposed"}
    metrics = {m.label: m.value for m in at.metric}
    assert metrics["Lines to decide"] == str(len(expected))
    # the detail of the most urgent line: its policy numbers and the projected-stock chart
    rop = snapshot_rows(planner_env, """
        SELECT p.reorder_point_units FROM marts.replenishment_policy AS p
        JOIN marts.replenishment_suggestions AS s USING (sku, location_id)
        WHERE s.urgency_rank = 1""")[0][0]
    assert metrics["Reorder point"] == f"{rop:,}"
    assert len(at.get("plotly_chart")) == 1
    assert not DecisionStore(planner_env).path.exists()  # reading never creates the store
    # nothing sent yet: a note, no download button of a supplier file, no outbox created
    assert any("No supplier file sent yet" in c.value for c in at.caption)
    assert not [b for b in at.get("download_button") if b.key.startswith("dl_sent_file_")]
    assert not (planner_env / "outbox").exists()


def test_filters_narrow_the_table(planner_env):
    at = open_page()
    at.sidebar.multiselect(key="repl_suppliers").select("SUP-B").run()
    assert set(table(at)["supplier_name"]) == {"Brit Ceramics"}
    expected = snapshot_rows(planner_env, "SELECT count(*) FROM marts.replenishment_suggestions "
                                          "WHERE supplier_id = 'SUP-B' AND location_id = 'ST1'")
    at.sidebar.multiselect(key="repl_locations").select("ST1").run()
    assert len(table(at)) == expected[0][0]
    at.sidebar.multiselect(key="repl_urgency").select("normal").run()
    assert set(table(at)["urgency"]) <= {"normal"}


def test_approve_one_line_lands_in_the_store_and_shows_at_once(planner_env):
    at = open_page()
    first = table(at).iloc[0]
    at.sidebar.text_input(key="planner_name").input("ana").run()
    at.button(key="repl_approve_one").click().run()
    assert not at.exception and not at.error
    saved = DecisionStore(planner_env).get(first["suggestion_id"])
    assert (saved["status"], saved["quantity"], saved["user"]) == (
        "approved", first["suggested_units"], "ana")
    assert saved["suggestion"]["sku"] == first["sku"]  # the line as the planner saw it
    now = table(at).iloc[0]
    assert (now["status"], now["decided_by"]) == ("approved", "ana")
    assert "Saved 1 decision(s) by ana" in at.success[0].value
    history = frame_with(at, "new_value")  # the audit trail of the line in the detail
    assert list(history["new_value"])[:1] == ["approved"]
    # nothing was written to the snapshot
    assert not snapshot_rows(planner_env, "SELECT count(*) FROM information_schema.tables "
                                          "WHERE table_name LIKE '%decision%'")[0][0]


def test_bulk_approve_with_an_edited_quantity_and_reject(planner_env):
    at = signed_in(open_page())
    rows = table(at)
    pack = int(rows.iloc[0]["case_pack"])
    more = int(rows.iloc[0]["suggested_units"]) + pack
    edit(at, {0: {"select": True, "order_units": more}, 1: {"select": True}})
    at.button(key="repl_approve_selected").click().run()
    assert not at.exception and not at.error
    store = DecisionStore(planner_env)
    first, second = (store.get(rows.iloc[i]["suggestion_id"]) for i in (0, 1))
    assert (first["status"], first["quantity"]) == ("edited", more)
    assert (second["status"], second["quantity"]) == ("approved", rows.iloc[1]["suggested_units"])

    # a fresh editor after the save: select the third line and reject it
    edit(at, {2: {"select": True}})
    at.button(key="repl_reject_selected").click().run()
    assert store.get(rows.iloc[2]["suggestion_id"])["status"] == "rejected"
    shown = table(at)
    assert list(shown["status"][:3]) == ["edited", "approved", "rejected"]
    assert shown["order_units"][2] == 0


def test_a_quantity_off_the_case_pack_saves_nothing(planner_env):
    at = signed_in(open_page())
    rows = table(at)
    edit(at, {0: {"order_units": int(rows.iloc[0]["suggested_units"]) + 1}})
    at.button(key="repl_save_quantities").click().run()
    assert "Nothing saved" in at.error[0].value and "cases of" in at.error[0].value
    assert not DecisionStore(planner_env).path.exists()


def test_supplier_totals_follow_the_decisions(planner_env):
    at = signed_in(open_page())
    rows = table(at)
    supplier = rows.iloc[0]["supplier_name"]

    def supplier_total() -> float:
        totals = frame_with(at, "approved_value")  # order value by supplier
        return totals.set_index("supplier_name").loc[supplier, "order_value_base"]

    before = supplier_total()
    edit(at, {0: {"select": True}})
    at.button(key="repl_reject_selected").click().run()
    assert supplier_total() == pytest.approx(before - rows.iloc[0]["order_value_base"])


def test_page_without_replenishment_marts_says_so(planner_env):
    con = duckdb.connect(str(planner_env / "serving" / "serving.duckdb"))
    try:
        con.execute("DROP TABLE marts.replenishment_suggestions")
    finally:
        con.close()
    at = open_page()
    assert any("once the replenishment step runs" in i.value for i in at.info)


def test_detail_draws_demand_history_and_forecast_band_when_published(planner_env):
    # the forecasting marts are not in the shared test snapshot (the Forecast quality page
    # test wants them absent): add small ones to this test's copy
    con = duckdb.connect(str(planner_env / "serving" / "serving.duckdb"))
    try:
        con.execute("""
            CREATE TABLE marts.daily_demand_by_sku AS
            SELECT sku, DATE '2026-11-22' - d::INTEGER AS date, (d % 4)::BIGINT AS units
            FROM (SELECT DISTINCT sku FROM marts.replenishment_suggestions), range(60) AS t(d)
        """)
        con.execute("""
            CREATE TABLE marts.demand_forecast AS
            SELECT sku, DATE '2026-11-22' + d::INTEGER AS date, 2.0 AS mean,
                   1.0 AS "q0.1", 2.0 AS "q0.5", 3.5 AS "q0.9"
            FROM (SELECT DISTINCT sku FROM marts.replenishment_suggestions), range(1, 29) AS t(d)
        """)
    finally:
        con.close()
    at = open_page()
    charts = at.get("plotly_chart")
    assert len(charts) == 2
    names = [trace.get("name") for trace in json.loads(charts[1].proto.spec)["data"]]
    assert names == ["units ordered", "q0.9", "forecast q0.1–q0.9", "forecast median"]


def change_snapshot(home: Path, *statements: str) -> None:
    """Run ``statements`` on this test's copy of the serving snapshot."""
    con = duckdb.connect(str(home / "serving" / "serving.duckdb"))
    try:
        for statement in statements:
            con.execute(statement)
    finally:
        con.close()


# a recent rate of 2 a day; last year's season doubles the first two weeks of the forecast
FLAT_HISTORY = """
    CREATE TABLE marts.daily_demand_by_sku AS
    SELECT sku, DATE '2026-11-22' - d::INTEGER AS date, 2::BIGINT AS units
    FROM (SELECT DISTINCT sku FROM marts.replenishment_suggestions), range(60) AS t(d)
"""
SEASONAL_FORECAST = """
    CREATE TABLE marts.demand_forecast AS
    SELECT sku, DATE '2026-11-22' + d::INTEGER AS date,
           2.0 * (CASE WHEN d <= 14 THEN 2.0 ELSE 1.0 END) AS mean,
           2.0 * (CASE WHEN d <= 14 THEN 2.0 ELSE 1.0 END) AS "q0.5",
           CASE WHEN d <= 14 THEN 2.0 ELSE 1.0 END AS yearly_ratio
    FROM (SELECT DISTINCT sku FROM marts.replenishment_suggestions), range(1, 29) AS t(d)
"""


def test_detail_shows_how_much_of_the_forecast_is_last_years_season(planner_env):
    change_snapshot(planner_env, FLAT_HISTORY, SEASONAL_FORECAST)
    at = open_page()
    assert not at.exception, [e.value for e in at.exception]
    traces = json.loads(at.get("plotly_chart")[1].proto.spec)["data"]
    recent = [t for t in traces if t.get("name", "").startswith("mean at the recent rate")]
    assert len(recent) == 1 and recent[0]["line"]["dash"] == "dot"
    # the season's number is the reason's (the suggestion's season_ratio over its window):
    # without it in the snapshot, no second computation over the whole forecast is quoted
    assert not any("last year's season" in c.value.lower() for c in at.caption)


def test_a_line_already_sent_is_shown_as_sent_and_cannot_change(planner_env):
    at = open_page()
    first = table(at).iloc[0]
    store = DecisionStore(planner_env)
    saved = store.decide(first["suggestion_id"], "approve", user="ana")
    store.mark_sent([{"suggestion_id": first["suggestion_id"],
                      "quantity": int(first["suggested_units"]),
                      "revision": saved["revision"]}], po_number="PO-TEST-1")
    at.run()
    assert table(at).iloc[0]["status"] == "sent"
    at.button(key="repl_reject_one").click().run()
    assert "already sent to the supplier" in at.warning[0].value
    assert store.get(first["suggestion_id"])["status"] == "sent"


# the warehouse names these tests read from the page's tables (shown in words by ui.table)
READ_BACK = ("new_value", "approved_value", "supplier_name", "order_value_base", "units_inbound",
             "po_number", "late", "file", "supplier_id", "short_of_minimum",
             "approved_value_after", "sha256 (prefix)")


def shown(column: str) -> str:
    """The header the page gives ``column`` (the test home's base currency is EUR)."""
    from dashboards import ui

    frame, _ = ui.readable(pl.DataFrame({column: pl.Series([], dtype=pl.Float64)}),
                           currency="EUR")
    return frame.columns[0]


def frame_with(at: AppTest, column: str):
    """The one table on the page with ``column`` (raw or in words), its READ_BACK columns
    under their warehouse names again."""
    found = [d.value for d in at.dataframe
             if column in d.value.columns or shown(column) in d.value.columns]
    assert len(found) == 1, [list(d.value.columns) for d in at.dataframe]
    return found[0].rename(columns={shown(c): c for c in READ_BACK})


def test_detail_lists_the_open_purchase_orders_of_the_line(planner_env):
    at = open_page()
    # the most urgent line has none; the test core has two open lines for another one
    assert any(c.value.startswith("No open purchase order for") for c in at.caption)
    expected = snapshot_rows(planner_env, """
        SELECT s.suggestion_id, i.po_number, i.units_inbound, i.is_late
        FROM marts.replenishment_suggestions AS s
        JOIN marts.inbound_purchase_orders AS i USING (sku, location_id)
        ORDER BY i.expected_date, i.po_number""")
    assert len({r[0] for r in expected}) == 1 and len(expected) == 2
    open_detail(at, expected[0][0])
    inbound = frame_with(at, "units_inbound")
    assert [tuple(r) for r in inbound[["po_number", "units_inbound", "late"]].values] == [
        r[1:] for r in expected]
    assert list(inbound["late"]) == [True, False]  # expected two days before the as-of day
    assert at.download_button(key="dl_inbound_pos")


def write_supplier_file(home: Path, supplier: str, po: str, fmt: str, body: bytes) -> str:
    outbox = home / "outbox"
    path = outbox / "suppliers" / supplier / f"{po}.{fmt}"
    digest = write_atomic(path, body)
    record_manifest(outbox, path, digest, kind="supplier_file", rows=1, supplier_id=supplier,
                    po_number=po, format=fmt)
    return path.relative_to(outbox).as_posix()


def test_sent_purchase_orders_offer_their_files_for_download(planner_env):
    files = [write_supplier_file(planner_env, supplier, po, fmt, f"{po} {fmt}".encode())
             for supplier, po in (("SUP-A", "PO-A-1"), ("SUP-B", "PO-B-1"))
             for fmt in ("csv", "xlsx")]
    (planner_env / "outbox" / files[-1]).unlink()  # a file gone from the outbox since
    at = open_page()
    listed = frame_with(at, "sha256 (prefix)")
    assert set(listed["file"]) == set(files)
    assert set(listed["supplier_name"]) == {"Alpha Textiles", "Brit Ceramics"}
    buttons = {b.key: b.label for b in at.get("download_button")
               if b.key.startswith("dl_sent_file_")}
    assert buttons == {f"dl_sent_file_{f}": f.rsplit(".", 1)[1].upper() for f in files[:-1]}
    assert any("XLSX: no longer in the outbox" in c.value for c in at.caption)

    from dashboards import outbox  # the bytes a click downloads, read from this home's outbox
    assert outbox.reader(files[0])() == b"PO-A-1 csv"
    assert outbox.reader("../serving/serving.duckdb") is None  # never outside the outbox

    at.sidebar.multiselect(key="repl_suppliers").select("SUP-A").run()
    assert set(frame_with(at, "sha256 (prefix)")["supplier_id"]) == {"SUP-A"}


def signed_in(at: AppTest, name: str = "ana") -> AppTest:
    at.sidebar.text_input(key="planner_name").input(name).run()
    return at


def bulk_note(at: AppTest):
    return next(t for t in at.text_input if "decisions below" in t.label)


def test_a_reject_note_stays_on_the_rejected_line(planner_env):
    at = signed_in(open_page())
    rows = table(at)
    edit(at, {0: {"select": True}})
    bulk_note(at).input("range being delisted").run()
    at.button(key="repl_reject_selected").click().run()
    edit(at, {1: {"select": True}, 2: {"select": True}})
    at.button(key="repl_approve_selected").click().run()
    assert not at.error, [e.value for e in at.error]
    store = DecisionStore(planner_env)
    assert store.get(rows.iloc[0]["suggestion_id"])["note"] == "range being delisted"
    assert [store.get(rows.iloc[i]["suggestion_id"])["note"] for i in (1, 2)] == [None, None]
    assert bulk_note(at).value == ""  # the box is empty for the next decision


def test_saving_changed_quantities_does_not_approve(planner_env):
    at = signed_in(open_page())
    rows = table(at)
    more = int(rows.iloc[0]["suggested_units"]) + int(rows.iloc[0]["case_pack"])
    edit(at, {0: {"order_units": more}})
    at.button(key="repl_save_quantities").click().run()
    assert not at.error, [e.value for e in at.error]
    store = DecisionStore(planner_env)
    saved = store.get(rows.iloc[0]["suggestion_id"])
    assert (saved["status"], saved["quantity"]) == ("proposed", more)
    assert store.pending() == []  # nothing for the restock run to send
    assert (table(at).iloc[0]["status"], table(at).iloc[0]["order_units"]) == ("proposed", more)
    # approving it then orders the saved quantity
    edit(at, {0: {"select": True}})
    at.button(key="repl_approve_selected").click().run()
    assert (store.get(rows.iloc[0]["suggestion_id"])["status"],
            store.get(rows.iloc[0]["suggestion_id"])["quantity"]) == ("edited", more)


def test_unsaved_quantities_survive_approving_other_lines(planner_env):
    at = signed_in(open_page())
    rows = table(at)
    more = int(rows.iloc[0]["suggested_units"]) + int(rows.iloc[0]["case_pack"])
    edit(at, {0: {"order_units": more}, 1: {"select": True}})
    at.button(key="repl_approve_selected").click().run()
    assert DecisionStore(planner_env).get(rows.iloc[1]["suggestion_id"])["status"] == "approved"
    assert DecisionStore(planner_env).get(rows.iloc[0]["suggestion_id"]) is None  # not saved
    assert table(at).iloc[0]["order_units"] == more  # ... but not lost either
    assert at.button(key="repl_save_quantities").label == "Save changed quantities (1)"


def test_a_decision_needs_the_planners_name_which_the_session_remembers(planner_env):
    at = open_page()
    at.button(key="repl_approve_one").click().run()
    assert "name" in at.error[0].value
    assert not DecisionStore(planner_env).path.exists()
    signed_in(at, "ana")
    at.switch_page("views/kpis.py")
    at.run()
    at.switch_page("views/replenishment.py")
    at.run()
    assert at.sidebar.text_input(key="planner_name").value == "ana"
    at.button(key="repl_approve_one").click().run()
    first = table(at).iloc[0]
    assert DecisionStore(planner_env).get(first["suggestion_id"])["user"] == "ana"


def sup_a_minimum_its_suggestions_reach(home: Path) -> list[tuple]:
    """Give Alpha Textiles (SUP-A) a minimum its suggestions reach but its cheapest line does
    not; its lines, cheapest first: ``(suggestion_id, urgency_rank, line_value, minimum,
    suggested_total)``."""
    change_snapshot(home, """
        UPDATE core.suppliers SET min_order_value = (
            SELECT floor(sum(line_value)) FROM marts.replenishment_suggestions
            WHERE supplier_id = 'SUP-A')
        WHERE supplier_id = 'SUP-A'""")
    return snapshot_rows(home, """
        SELECT s.suggestion_id, s.urgency_rank, s.line_value, su.min_order_value,
               sum(s.line_value) OVER () AS suggested_total
        FROM marts.replenishment_suggestions AS s JOIN core.suppliers AS su USING (supplier_id)
        WHERE s.supplier_id = 'SUP-A' ORDER BY s.line_value, s.suggestion_id""")


def test_minimum_order_value_is_checked_on_the_approved_lines(planner_env):
    cheapest, _, value, minimum, suggested_total = sup_a_minimum_its_suggestions_reach(
        planner_env)[0]
    assert value < minimum <= suggested_total  # the suggestions reach it, one line does not
    at = signed_in(open_page())
    assert not any("Alpha Textiles" in w.value for w in at.warning)  # nothing approved yet
    open_detail(at, cheapest)
    at.button(key="repl_approve_one").click().run()
    assert DecisionStore(planner_env).get(cheapest)["status"] == "approved"
    warning = next(w.value for w in at.warning if "minimum order value" in w.value)
    assert f"Alpha Textiles ({value:,.2f} of {minimum:,.2f} EUR approved" in warning
    assert "shelfwise restock --supplier SUP-A --force" in warning
    totals = frame_with(at, "approved_value").set_index("supplier_id")
    assert totals.loc["SUP-A", "approved_value"] == pytest.approx(value)
    assert totals.loc["SUP-A", "short_of_minimum"] == pytest.approx(minimum - value)


def test_detail_charts_the_lines_location_and_quotes_the_reasons_season(planner_env):
    change_snapshot(
        planner_env, FLAT_HISTORY, SEASONAL_FORECAST,
        # the season over the order's window, as the policy computed it for the reason
        "ALTER TABLE marts.replenishment_suggestions ADD COLUMN season_ratio DOUBLE DEFAULT 1.9",
        "ALTER TABLE marts.replenishment_suggestions ADD COLUMN season_days BIGINT DEFAULT 34",
        "ALTER TABLE marts.replenishment_policy ADD COLUMN demand_share DOUBLE DEFAULT 0.25")
    first = snapshot_rows(planner_env, "SELECT sku, location_id FROM "
                          "marts.replenishment_suggestions ORDER BY urgency_rank LIMIT 1")[0]
    ordered = snapshot_rows(planner_env, f"""
        SELECT coalesce(sum(ordered_units), 0) FROM marts.kpi_order_line_facts
        WHERE sku = '{first[0]}' AND location_id = '{first[1]}' AND NOT is_cancelled
          AND order_date > DATE '2026-11-22' - 91""")[0][0]
    at = open_page()
    assert not at.exception, [e.value for e in at.exception]
    spec = json.loads(at.get("plotly_chart")[1].proto.spec)
    assert f"at {first[1]}" in spec["layout"]["title"]["text"]
    traces = {t.get("name"): t for t in spec["data"]}

    def values(trace) -> list[float]:  # plotly sends numbers as lists or typed arrays
        y = trace["y"]
        if isinstance(y, dict):
            import base64

            import numpy as np
            return np.frombuffer(base64.b64decode(y["bdata"]), dtype=y["dtype"]).tolist()
        return y

    assert sum(values(traces["units ordered"])) == ordered  # this location's orders only
    median = values(traces["forecast median"])
    assert median[0] == pytest.approx(4.0 * 0.25) and median[-1] == pytest.approx(2.0 * 0.25)
    # the caption quotes the reason's own numbers (its window), not a second computation
    season = [c.value for c in at.caption if "last year's season" in c.value.lower()]
    assert season and "1.9× the recent rate over the next 34 days" in season[0]
    assert not any("forecast days" in c for c in season)


def test_table_shows_what_a_planner_compares_and_searches_by_sku(planner_env):
    change_snapshot(
        planner_env,
        "ALTER TABLE marts.replenishment_policy ADD COLUMN lead_time_demand_units DOUBLE",
        "UPDATE marts.replenishment_policy"
        " SET lead_time_demand_units = mean_daily_demand_units * lead_time_mean_days")
    expected = {r[0]: r[1:] for r in snapshot_rows(planner_env, """
        SELECT s.suggestion_id, p.on_hand_units, s.days_of_cover, p.lead_time_demand_units
        FROM marts.replenishment_suggestions AS s
        JOIN marts.replenishment_policy AS p USING (sku, location_id, as_of)""")}
    at = open_page()
    shown = table(at)
    for column in ("on_hand_units", "days_of_cover", "lead_time_demand_units"):
        assert column in shown.columns
    for _, row in shown.iterrows():
        on_hand, cover, lead_time_demand = expected[row["suggestion_id"]]
        assert row["on_hand_units"] == on_hand
        assert row["lead_time_demand_units"] == pytest.approx(lead_time_demand)
    at.text_input(key="repl_search").input("sku-007").run()
    assert set(table(at)["sku"]) == {"SKU-007"}


def test_a_row_click_opens_its_detail_and_the_decision_is_on_that_line(planner_env):
    at = signed_in(open_page())
    assert not [s for s in at.selectbox if s.key == "repl_detail"]  # no 400-item dropdown
    third = snapshot_rows(planner_env, "SELECT suggestion_id, sku, location_id, suggested_units"
                          " FROM marts.replenishment_suggestions WHERE urgency_rank = 3")[0]
    assert at.subheader[1].value.startswith("Detail: #1 ")  # the most urgent line first
    open_detail(at, third[0])
    assert at.subheader[1].value.startswith(f"Detail: #3 {third[1]} ")
    at.button(key="repl_approve_one").click().run()
    saved = DecisionStore(planner_env).get(third[0])
    assert (saved["status"], saved["quantity"], saved["sku"]) == ("approved", third[3], third[1])
    assert at.subheader[1].value.startswith(f"Detail: #3 {third[1]} ")  # still open after it


def test_supplier_search_beside_the_sku_search(planner_env):
    at = open_page()
    expected = snapshot_rows(planner_env, "SELECT suggestion_id FROM "
                             "marts.replenishment_suggestions WHERE supplier_id = 'SUP-B'")
    at.text_input(key="repl_supplier_search").input("brit").run()
    assert set(table(at)["suggestion_id"]) == {r[0] for r in expected}
    at.text_input(key="repl_supplier_search").input("sup-a").run()
    assert set(table(at)["supplier_name"]) == {"Alpha Textiles"}


def test_table_shows_cover_after_the_order_and_flags_moq_overbuys(planner_env):
    change_snapshot(
        planner_env,
        "ALTER TABLE marts.replenishment_suggestions ADD COLUMN moq_excess_units BIGINT DEFAULT 0",
        "ALTER TABLE marts.replenishment_suggestions ADD COLUMN moq_excess_days DOUBLE DEFAULT 0",
        "ALTER TABLE marts.replenishment_suggestions ADD COLUMN moq_overbuy BOOLEAN DEFAULT false",
        "UPDATE marts.replenishment_suggestions SET moq_excess_units = 48, moq_excess_days = 40,"
        " moq_overbuy = true WHERE urgency_rank = 2")
    expected = {r[0]: r[1] for r in snapshot_rows(planner_env, """
        SELECT s.suggestion_id,
               CAST((s.inventory_position_units + s.suggested_units)
                    / p.mean_daily_demand_units AS DOUBLE)
        FROM marts.replenishment_suggestions AS s
        JOIN marts.replenishment_policy AS p USING (sku, location_id, as_of)""")}
    at = open_page()
    grid = next(d.value for d in at.dataframe if (d.key or "").startswith("repl_table_"))
    for _, row in grid.iterrows():
        assert row["days_of_cover_after_order"] == pytest.approx(expected[row["suggestion_id"]])
    flagged = grid[grid["moq_overbuy"]]
    assert list(flagged["urgency_rank"]) == [2]
    open_detail(at, flagged.iloc[0]["suggestion_id"])
    assert any("MOQ overbuy" in w.value and "48 units" in w.value and "40 days" in w.value
               for w in at.warning)
    assert at.download_button(key="dl_replenishment_xlsx").label.endswith("(XLSX)")


def test_short_suppliers_get_the_open_lines_that_top_them_up(planner_env):
    lines = sup_a_minimum_its_suggestions_reach(planner_env)
    cheapest, _, approved, minimum, _ = lines[0]
    # the rule, worked out here: the other open lines most urgent first, until it is covered
    top_up, total = [], approved
    for sid, _, value, _, _ in sorted(lines[1:], key=lambda r: r[1]):
        if total >= minimum:
            break
        top_up.append(sid)
        total += value
    at = signed_in(open_page())
    open_detail(at, cheapest)
    at.button(key="repl_approve_one").click().run()
    candidates = frame_with(at, "approved_value_after")
    assert len(candidates) == len(top_up)
    assert candidates["approved_value_after"].iloc[-1] == pytest.approx(total)
    assert any(m.value.startswith("**Top up Alpha Textiles**") for m in at.markdown)
    at.button(key="repl_top_up_SUP-A").click().run()
    store = DecisionStore(planner_env)
    assert {sid for sid in top_up if store.get(sid)["status"] == "approved"} == set(top_up)
    assert not any("Alpha Textiles (" in w.value for w in at.warning)  # the minimum is reached
