"""Transfers before purchases on a generated, ingested home (marts.transfer_suggestions).

The figures are checked against plain SQL over marts.replenishment_policy written here, not
against shelfwise's own statements.
"""

from __future__ import annotations

import duckdb
import polars as pl
import pytest
from click.testing import CliRunner

from pipelines.cli import main

TRANSFER_COLUMNS = [
    "transfer_id", "as_of", "sku", "product_name", "from_location_id", "to_location_id",
    "transfer_units", "case_pack", "cases", "ship_date", "transfer_lead_time_days",
    "expected_arrival_date", "cost_per_unit", "transfer_cost_base", "unit_cost_base",
    "stock_value_base", "reason"]

# what each location could spare and what each needing location asks, written independently
SPARE_AND_REQUEST = """
SELECT sku, location_id, needs_order,
       CASE WHEN needs_order THEN 0
            ELSE greatest(floor((on_hand_units - allocated_units - backorder_units
                                 - order_up_to_units - greatest(lead_time_demand_units, 0))
                                / greatest(coalesce(case_pack, 1), 1) + 1e-9), 0)
                 * greatest(coalesce(case_pack, 1), 1) END AS spare,
       CASE WHEN needs_order
            THEN ceil((order_up_to_units - inventory_position_units)
                      / greatest(coalesce(case_pack, 1), 1) - 1e-9)
                 * greatest(coalesce(case_pack, 1), 1) ELSE 0 END AS request,
       on_hand_units - allocated_units - backorder_units AS free,
       order_up_to_units + greatest(lead_time_demand_units, 0) AS keep,
       inventory_position_units, reorder_point_units, order_up_to_units
FROM marts.replenishment_policy
"""


def test_a_location_with_spare_stock_sends_it_and_nothing_is_bought(spare_home):
    path, sku, needing, other, before = spare_home
    assert before > 0  # today: bought although the other location holds plenty
    with duckdb.connect(str(path), read_only=True) as w:
        expected = w.execute(
            f"""WITH x AS ({SPARE_AND_REQUEST})
                SELECT least(src.spare, dst.request), src.free, src.keep
                FROM x AS src, x AS dst
                WHERE src.sku = $sku AND src.location_id = $other
                  AND dst.sku = $sku AND dst.location_id = $needing""",
            {"sku": sku, "other": other, "needing": needing}).fetchall()[0]
        moves = w.sql("SELECT * FROM marts.transfer_suggestions WHERE sku = $sku",
                      params={"sku": sku}).pl()
        bought = w.execute("SELECT count(*) FROM marts.replenishment_suggestions "
                           "WHERE sku = ? AND location_id = ?", [sku, needing]).fetchall()[0][0]
    assert moves.select("from_location_id", "to_location_id", "transfer_units").rows() == [
        (other, needing, int(expected[0]))]
    assert expected[1] - expected[0] >= expected[2]  # the source keeps its order-up-to + LTD
    assert bought == 0
    line = moves.row(0, named=True)
    assert line["transfer_lead_time_days"] == 3.0 and line["cost_per_unit"] == 0.0
    assert (line["expected_arrival_date"] - line["as_of"]).days == 3
    assert f"{other} holds {int(expected[1])} free" in line["reason"]
    assert f"sends {int(expected[0])}" in line["reason"]


def test_transfers_keep_sources_whole_and_purchases_buy_only_the_rest(con):
    moves = con.sql("SELECT * FROM marts.transfer_suggestions").pl()
    assert moves.columns[:len(TRANSFER_COLUMNS)] == TRANSFER_COLUMNS
    x = con.sql(SPARE_AND_REQUEST).pl()
    sent = moves.group_by("sku", pl.col("from_location_id").alias("location_id")).agg(
        pl.col("transfer_units").sum().alias("sent"))
    got = moves.group_by("sku", pl.col("to_location_id").alias("location_id")).agg(
        pl.col("transfer_units").sum().alias("got"))
    company = x.group_by("sku").agg(pl.col("free").sum().alias("company_free"),
                                    pl.col("reorder_point_units").sum().alias("company_rop"))
    src = sent.join(x, on=["sku", "location_id"]).join(company, on="sku")
    assert src.height == sent.height
    # a source gives only its spare above order-up-to + lead-time demand, or, for a SKU the
    # company holds enough of (free ≥ Σ reorder points), keeps more than its reorder point
    first = (src["sent"] <= src["spare"]) & (src["free"] - src["sent"] >= src["keep"])
    second = ((src["company_free"] >= src["company_rop"])
              & (src["free"] - src["sent"] > src["reorder_point_units"]))
    assert (first | second).all()
    assert set(moves["rule"]) <= {"spare", "company_cover"}
    dst = got.join(x, on=["sku", "location_id"])
    assert dst["needs_order"].all() and (dst["got"] <= dst["request"]).all()
    # every location that needs an order: lifted above its reorder point by a transfer, or
    # bought for, the purchase counting what the transfer brings
    s = con.sql("SELECT * FROM marts.replenishment_suggestions").pl()
    needs = x.filter(pl.col("needs_order")).join(got, on=["sku", "location_id"], how="left") \
        .with_columns(pl.col("got").fill_null(0))
    still = needs.filter(pl.col("inventory_position_units") + pl.col("got")
                         <= pl.col("reorder_point_units"))
    assert sorted(s.select("sku", "location_id").rows()) == sorted(
        still.select("sku", "location_id").rows())


def test_transfers_can_be_turned_off(replenished, tmp_path):
    from assets.replenishment.config import ReplenishmentSettingsError, replenishment_settings
    from assets.settings import load_settings

    (tmp_path / "shelfwise.toml").write_text(
        '[replenishment.transfers]\nenabled = false\nlead_time_days = 2\n'
        '[replenishment.transfers.lanes]\n"WH-A>WH-B" = { cost_per_unit = 0.5 }\n')
    ts = replenishment_settings(load_settings(tmp_path)).transfers
    assert not ts.enabled and ts.lanes == {("WH-A", "WH-B"): (2.0, 0.5)}
    (tmp_path / "shelfwise.toml").write_text('[replenishment.transfers.lanes]\n"WH-A" = {}\n')
    with pytest.raises(ReplenishmentSettingsError, match=r'transfers\].lanes "WH-A".*FROM>TO'):
        replenishment_settings(load_settings(tmp_path))
    (tmp_path / "shelfwise.toml").write_text('[replenishment.transfers]\nlead_time_days = -1\n')
    with pytest.raises(ReplenishmentSettingsError, match="lead_time_days = -1"):
        replenishment_settings(load_settings(tmp_path))


def test_cli_lists_transfers(spare_home):
    path, sku, needing, other, _ = spare_home
    home = path.parent.parent
    out = CliRunner().invoke(main, ["--home", str(home), "transfers"])
    assert out.exit_code == 0, out.output
    assert sku in out.output and f"{other} → {needing}" in out.output
    out = CliRunner().invoke(main, ["--home", str(home), "transfers", "--from", other,
                                    "--out", str(home / "t.csv")])
    assert out.exit_code == 0, out.output
    assert set(pl.read_csv(home / "t.csv")["from_location_id"]) == {other}
    # an unknown SKU or location is a typo, not "nothing to move"
    out = CliRunner().invoke(main, ["--home", str(home), "transfers", "--sku", "NO-SUCH-SKU"])
    assert out.exit_code == 1 and "unknown SKU 'NO-SUCH-SKU'" in out.output
    out = CliRunner().invoke(main, ["--home", str(home), "transfers", "--from", "WH-NOWHERE"])
    assert out.exit_code == 1 and "unknown location 'WH-NOWHERE'" in out.output
