"""Products may be absent: SKUs sold on order lines get derived product rows (issue #19, 4)."""

from __future__ import annotations

import duckdb
import pytest
from click.testing import CliRunner

from assets.features import DERIVED_PRODUCTS_SOURCE
from pipelines.cli import main

pytestmark = pytest.mark.integration

HEADER = ("order_id,line_id,channel_sku,sku,quantity,unit_price,currency,line_amount,status,"
          "ordered_at,updated_at")


def _orders(home, name, rows):
    folder = home / "inbox" / "orders" / "web"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [HEADER] + [
        f"{o},1,{sku},{sku},1,5.00,EUR,5.00,paid,{day}T10:00:00Z,{day}T10:00:00Z"
        for o, sku, day in rows
    ]
    (folder / f"{name}.canonical.csv").write_text("\n".join(lines) + "\n")


def _ingest(home):
    result = CliRunner().invoke(main, ["--home", str(home), "ingest"])
    assert result.exit_code == 0, result.output
    return result


def _products(home):
    with duckdb.connect(str(home / "warehouse" / "shelfwise.duckdb"), read_only=True) as con:
        return {r[0]: r[1:] for r in con.execute(
            "SELECT sku, name, case_pack, moq, is_bundle, source_file, supplier_id "
            "FROM core.products ORDER BY sku").fetchall()}


def _quarantined(home):
    with duckdb.connect(str(home / "warehouse" / "shelfwise.duckdb"), read_only=True) as con:
        return con.execute("SELECT count(*) FROM quarantine.rows").fetchone()[0]


def test_skus_without_master_data_get_derived_rows_never_overwriting_real_ones(tmp_path):
    home = tmp_path / "home"
    _orders(home, "d1", [("A1", "MUG", "2024-03-01"), ("A2", "LAMP", "2024-03-01")])
    _ingest(home)
    derived = (DERIVED_PRODUCTS_SOURCE,)
    assert _products(home) == {
        "LAMP": ("LAMP", 1, 1, False) + derived + (None,),
        "MUG": ("MUG", 1, 1, False) + derived + (None,),
    }

    # next day: a new SKU; the derived rows must not act as master data for ingest's
    # unknown-SKU rule (it would quarantine every new SKU of an orders-only home)
    _orders(home, "d2", [("A3", "SCARF", "2024-03-02")])
    _ingest(home)
    assert _quarantined(home) == 0
    assert set(_products(home)) == {"LAMP", "MUG", "SCARF"}

    # real master data for MUG arrives: it replaces the derived row, the others stay derived
    (home / "inbox" / "products").mkdir(parents=True)
    (home / "inbox" / "products" / "products.csv").write_text(
        "sku,name,case_pack,moq,is_bundle,supplier_id\nMUG,Red mug,6,12,false,SUP-1\n")
    _ingest(home)
    products = _products(home)
    assert products["MUG"][:4] == ("Red mug", 6, 12, False)
    assert products["MUG"][4] == "products/products.csv"
    assert products["LAMP"][4] == DERIVED_PRODUCTS_SOURCE
    assert products["SCARF"][4] == DERIVED_PRODUCTS_SOURCE
