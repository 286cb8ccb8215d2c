"""The replenishment assets on generated, ingested data: the contract, the rules, re-runs, CLI."""

from __future__ import annotations

import hashlib
import shutil

import dagster as dg
import duckdb
import polars as pl
import pytest
from click.testing import CliRunner

from assets.replenishment import defs as replenishment_defs
from assets.settings import load_settings
from forecasting.policy import REASON_CODES
from pipelines.cli import main
from pipelines.resources import build_resources

CONTRACT = {
    "lead_times": ["supplier_id", "sku", "po_lines", "lead_time_mean_days", "lead_time_sd_days",
                   "on_time_rate", "short_shipped_share", "source"],
    "replenishment_policy": [
        "as_of", "sku", "location_id", "supplier_id", "abc_class", "xyz_class", "service_level",
        "service_level_source", "lead_time_mean_days", "lead_time_sd_days", "lead_time_source",
        "review_period_days", "mean_daily_demand_units", "safety_stock_units",
        "reorder_point_units", "order_up_to_units", "on_hand_units", "on_order_units",
        "allocated_units", "backorder_units", "inventory_position_units", "unit_cost_base",
        "days_of_cover", "projected_stockout_date", "last_order_date"],
    "projected_stock": ["as_of", "sku", "location_id", "date", "demand_units", "inbound_units",
                        "projected_on_hand_units"],
    "replenishment_suggestions": [
        "suggestion_id", "as_of", "sku", "product_name", "location_id", "supplier_id",
        "supplier_name", "supplier_sku", "order_date", "expected_arrival_date", "suggested_units",
        "case_pack", "cases", "moq", "unit_cost", "currency", "unit_cost_base", "line_value",
        "line_value_base", "service_level", "reorder_point_units", "order_up_to_units",
        "safety_stock_units", "inventory_position_units", "projected_stockout_date",
        "days_of_cover", "last_order_date", "urgency_rank", "reason", "reason_codes"],
}
TYPES = {("replenishment_suggestions", "suggested_units"): "BIGINT",
         ("replenishment_suggestions", "case_pack"): "INTEGER",
         ("replenishment_suggestions", "cases"): "BIGINT",
         ("replenishment_suggestions", "moq"): "INTEGER",
         ("replenishment_suggestions", "urgency_rank"): "INTEGER",
         ("replenishment_policy", "as_of"): "DATE",
         ("replenishment_policy", "projected_stockout_date"): "DATE",
         ("replenishment_policy", "days_of_cover"): "DOUBLE"}


@pytest.fixture(scope="module")
def con(replenished):
    settings, _ = replenished
    with duckdb.connect(str(settings.warehouse_path), read_only=True) as connection:
        yield connection


def frame(con, query: str) -> pl.DataFrame:
    return con.sql(query).pl()


def test_tables_have_the_contract_columns_and_types(con):
    for table, columns in CONTRACT.items():
        described = {r[0] for r in con.execute(f"DESCRIBE marts.{table}").fetchall()}
        assert [c for c in columns if c not in described] == [], table
    for (table, column), sql_type in TYPES.items():
        got = con.execute("SELECT data_type FROM information_schema.columns WHERE "
                          "table_schema = 'marts' AND table_name = ? AND column_name = ?",
                          [table, column]).fetchall()[0][0]
        assert got == sql_type, (table, column)


def test_policy_covers_stocked_non_bundle_skus_with_a_supplier_once(con):
    expected = frame(con, """SELECT ip.sku, ip.location_id FROM marts.inventory_position AS ip
                             JOIN core.products AS p USING (sku)
                             JOIN core.suppliers AS s ON s.supplier_id = p.supplier_id
                             WHERE NOT p.is_bundle ORDER BY 1, 2""")
    policy = frame(con, "SELECT sku, location_id FROM marts.replenishment_policy ORDER BY 1, 2")
    assert policy.equals(expected) and policy.height > 0
    assert frame(con, """SELECT count(*) AS n FROM marts.replenishment_policy
                         JOIN core.products USING (sku) WHERE is_bundle""")["n"][0] == 0


def test_policy_numbers_hold_together(con):
    p = frame(con, "SELECT * FROM marts.replenishment_policy")
    assert (p["inventory_position_units"] == p["on_hand_units"] + p["on_order_units"]
            - p["allocated_units"] - p["backorder_units"]).all()
    assert (p["order_up_to_units"] >= p["reorder_point_units"]).all()
    assert (p["safety_stock_units"] >= 0).all()
    assert p["service_level"].is_between(0, 1, closed="none").all()
    assert set(p["lead_time_source"]) <= {"learned_sku", "learned_supplier", "master_sku",
                                          "master_supplier"}
    # demand shares of a SKU add up to 1
    shares = p.group_by("sku").agg(pl.col("demand_share").sum())
    assert shares["demand_share"].is_between(0.999, 1.001).all()
    # the last order day comes before the stockout by at least the lead time
    late = p.filter(pl.col("last_order_date").is_not_null()).with_columns(
        (pl.col("projected_stockout_date") - pl.col("last_order_date")).dt.total_days().alias("gap"))
    assert (late["gap"] >= late["lead_time_mean_days"].round(0)).all()
    # days of cover: null exactly when there is no demand
    assert (p["days_of_cover"].is_null() == (p["mean_daily_demand_units"] == 0)).all()


def test_per_sku_override_wins_over_the_matrix(con):
    rows = frame(con, """SELECT DISTINCT service_level, service_level_source
                         FROM marts.replenishment_policy WHERE sku = 'SKU-00002'""")
    assert rows.rows() == [(0.995, "override")]
    assert set(frame(con, "SELECT service_level_source FROM marts.replenishment_policy "
                          "WHERE sku <> 'SKU-00002'")["service_level_source"]) == {"matrix"}


def test_lead_times_have_a_supplier_row_per_supplier_and_rates_in_range(con):
    lt = frame(con, "SELECT * FROM marts.lead_times")
    suppliers = frame(con, "SELECT supplier_id FROM core.suppliers")
    assert sorted(lt.filter(pl.col("sku").is_null())["supplier_id"]) == sorted(suppliers["supplier_id"])
    for col in ("on_time_rate", "short_shipped_share"):
        assert lt[col].drop_nulls().is_between(0, 1).all()
    assert (lt["lead_time_mean_days"] > 0).all() and (lt["lead_time_sd_days"] >= 0).all()
    learned = lt.filter(pl.col("source").str.starts_with("learned"))
    assert learned.height > 0


def test_every_sku_that_needs_an_order_has_a_suggestion_with_reasons_and_a_projection(con, replenished):
    _, check_passed = replenished  # the asset check beside the suggestions says so too
    assert check_passed
    s = frame(con, "SELECT * FROM marts.replenishment_suggestions ORDER BY urgency_rank")
    # a location lifted above its reorder point by a transfer buys nothing (test_transfer_suggestions.py)
    needs = frame(con, """SELECT p.sku, p.location_id FROM marts.replenishment_policy AS p
                          LEFT JOIN (SELECT sku, to_location_id AS location_id,
                                            sum(transfer_units) AS moved
                                     FROM marts.transfer_suggestions GROUP BY ALL) USING (sku, location_id)
                          WHERE p.needs_order
                            AND p.inventory_position_units + coalesce(moved, 0) <= p.reorder_point_units""")
    assert s.height == needs.height > 0
    assert s["urgency_rank"].to_list() == list(range(1, s.height + 1))
    assert s["reason"].str.len_chars().min() > 20
    for codes in s["reason_codes"]:
        assert codes.startswith("below_reorder_point") and set(codes.split(",")) <= set(REASON_CODES)
    projected = frame(con, "SELECT DISTINCT sku, location_id FROM marts.projected_stock")
    assert s.join(projected, on=["sku", "location_id"], how="anti").height == 0


def test_inbound_purchase_orders_are_the_open_lines_on_order(con):
    lines = frame(con, "SELECT * FROM marts.inbound_purchase_orders")
    as_of = con.execute("SELECT max(as_of) FROM marts.inventory_position").fetchall()[0][0]
    assert lines.height > 0 and set(lines["as_of"]) == {as_of}
    assert lines.select("po_number", "sku").is_duplicated().sum() == 0
    assert (lines["units_inbound"] == lines["units_ordered"] - lines["units_received"]).all()
    assert (lines["units_inbound"] > 0).all() and lines["supplier_name"].null_count() == 0
    assert (lines["is_late"] == (lines["expected_date"] < as_of)).all()
    assert lines.select((pl.col("days_late") == (pl.lit(as_of) - pl.col("expected_date"))
                         .dt.total_days().clip(lower_bound=0)).all()).item()
    # line by line, what the inventory position counts as on order
    on_order = frame(con, "SELECT sku, location_id, on_order_units FROM marts.inventory_position"
                          " WHERE on_order_units > 0")
    summed = lines.group_by("sku", "location_id").agg(pl.col("units_inbound").sum())
    assert summed.join(on_order, on=["sku", "location_id"], how="full").filter(
        pl.col("units_inbound").fill_null(0) != pl.col("on_order_units").fill_null(0)).height == 0


def test_suggested_quantities_respect_packs_moq_and_minimum_order_value(con):
    s = frame(con, "SELECT * FROM marts.replenishment_suggestions")
    assert (s["suggested_units"] % s["case_pack"].clip(lower_bound=1) == 0).all()
    assert (s["suggested_units"] >= s["moq"]).all()
    assert (s["cases"] * s["case_pack"].clip(lower_bound=1) == s["suggested_units"]).all()
    assert (s["inventory_position_units"] + s["suggested_units"] > s["reorder_point_units"]).all()
    assert (s["order_date"] >= s["as_of"]).all()
    assert (s["expected_arrival_date"] >= s["order_date"]).all()
    orders = s.group_by("supplier_id", "order_date").agg(
        pl.col("line_value").sum(), pl.col("min_order_value").first(),
        pl.col("order_below_min_value").first())
    ok = (orders["line_value"] >= orders["min_order_value"].fill_null(0) - 1e-6) | \
        orders["order_below_min_value"]
    assert ok.all()
    ids = s.select(
        pl.concat_str([pl.col("as_of").cast(pl.String), "sku", "location_id"], separator="|"),
        "suggestion_id")
    assert all(hashlib.md5(k.encode()).hexdigest() == i for k, i in ids.iter_rows())


def test_a_rerun_gives_the_same_suggestions_and_ids(replenished, con):
    before = frame(con, "SELECT * FROM marts.replenishment_suggestions ORDER BY suggestion_id")
    settings, _ = replenished
    # a copy of the warehouse: the module's read-only connection keeps the original open
    copy = settings.home.parent / (settings.home.name + "_rerun")
    (copy / "warehouse").mkdir(parents=True)
    shutil.copy(settings.warehouse_path, copy / "warehouse" / "shelfwise.duckdb")
    shutil.copy(settings.home / "shelfwise.toml", copy / "shelfwise.toml")
    result = dg.materialize(list(replenishment_defs.assets), resources=build_resources(str(copy)),
                            instance=dg.DagsterInstance.ephemeral())
    assert result.success
    with duckdb.connect(str(copy / "warehouse" / "shelfwise.duckdb")) as again:
        after = again.sql("SELECT * FROM marts.replenishment_suggestions ORDER BY suggestion_id").pl()
        # a SKU that needs an order, discontinued before an order could arrive: no suggestion
        victim = before.row(0, named=True)
        again.execute("UPDATE core.products SET discontinued_on = ? WHERE sku = ?",
                      [victim["as_of"], victim["sku"]])
    assert after.equals(before)
    assert dg.materialize(list(replenishment_defs.assets), resources=build_resources(str(copy)),
                          instance=dg.DagsterInstance.ephemeral()).success
    with duckdb.connect(str(copy / "warehouse" / "shelfwise.duckdb"), read_only=True) as again:
        left = again.execute("SELECT count(*) FROM marts.replenishment_suggestions WHERE sku = ?",
                             [victim["sku"]]).fetchall()[0][0]
        flagged = again.execute("SELECT bool_and(is_discontinued) FROM marts.replenishment_policy "
                                "WHERE sku = ?", [victim["sku"]]).fetchall()[0][0]
    assert left == 0 and flagged


# ---------------------------------------------------------------------------------------------
# the command line
# ---------------------------------------------------------------------------------------------

def run(settings, *args):
    return CliRunner().invoke(main, ["--home", str(settings.home), *args])


def test_cli_suggestions_filters_and_exports(replenished, con, tmp_path):
    settings, _ = replenished
    first = frame(con, "SELECT * FROM marts.replenishment_suggestions ORDER BY urgency_rank").row(0, named=True)
    out = run(settings, "suggestions")
    assert out.exit_code == 0, out.output
    assert first["reason"] in out.output and "Orders per supplier" in out.output
    out = run(settings, "suggestions", "--supplier", first["supplier_id"], "--out",
              str(tmp_path / "s.csv"))
    assert out.exit_code == 0, out.output
    exported = pl.read_csv(tmp_path / "s.csv")
    assert set(exported["supplier_id"]) == {first["supplier_id"]}
    assert "reason" in exported.columns
    out = run(settings, "suggestions", "--sku", first["sku"], "--out", str(tmp_path / "s.xlsx"))
    assert out.exit_code == 0 and (tmp_path / "s.xlsx").stat().st_size > 0
    out = run(settings, "suggestions", "--sku", "NO-SUCH-SKU")  # a typo, not "nothing to order"
    assert out.exit_code == 1 and "unknown SKU 'NO-SUCH-SKU'" in out.output
    out = run(settings, "suggestions", "--out", str(tmp_path / "s.txt"))
    assert out.exit_code != 0 and ".csv or .xlsx" in out.output


def test_cli_policy_shows_numbers_and_projection(replenished, con):
    settings, _ = replenished
    row = frame(con, "SELECT * FROM marts.replenishment_suggestions ORDER BY urgency_rank").row(0, named=True)
    out = run(settings, "policy", "--sku", row["sku"], "--days", "5")
    assert out.exit_code == 0, out.output
    for text in ("reorder point", "order-up-to", "= inventory position", "Projected on hand",
                 row["location_id"], row["reason"]):
        assert text in out.output
    assert out.output.count("\n" + str(row["as_of"])[:4]) >= 5  # five projected days
    out = run(settings, "policy", "--sku", "NO-SUCH-SKU")
    assert out.exit_code != 0 and "no policy for SKU" in out.output


def test_cli_explains_a_missing_warehouse(tmp_path):
    out = CliRunner().invoke(main, ["--home", str(tmp_path), "suggestions"])
    assert out.exit_code != 0 and "shelfwise ingest" in out.output


def test_bad_settings_are_named(tmp_path):
    from assets.replenishment.config import ReplenishmentSettingsError, replenishment_settings

    (tmp_path / "shelfwise.toml").write_text("[replenishment.service_levels]\nAX = 2\n")
    with pytest.raises(ReplenishmentSettingsError, match=r"\[replenishment\].*'AX' = 2"):
        replenishment_settings(load_settings(tmp_path))
    (tmp_path / "shelfwise.toml").write_text("[replenishment]\nmax_cover = 3\n")
    with pytest.raises(ReplenishmentSettingsError, match="unknown key.*max_cover"):
        replenishment_settings(load_settings(tmp_path))
    (tmp_path / "shelfwise.toml").write_text("[replenishment]\ncycle_stock_reviews = -1\n")
    with pytest.raises(ReplenishmentSettingsError, match="cycle_stock_reviews = -1.*≥ 0"):
        replenishment_settings(load_settings(tmp_path))
    (tmp_path / "shelfwise.toml").write_text("[replenishment]\ncycle_stock_reviews = 0\n")
    assert replenishment_settings(load_settings(tmp_path)).cycle_stock_reviews == 0.0
