"""The one helper every SQL model file goes through: identifiers quoted, values never spliced."""

from __future__ import annotations

import duckdb
import pytest

from assets.warehouse.sql_files import quote_identifier, read_model, render, sql_dir


def test_render_quotes_identifiers_and_runs():
    sql = render("CREATE TABLE {name} AS SELECT 1 AS {column}", name="main.t", column="day")
    assert sql == 'CREATE TABLE "main"."t" AS SELECT 1 AS "day"'
    con = duckdb.connect()
    con.execute(sql)
    assert con.execute('SELECT "day" FROM main.t').fetchall() == [(1,)]


@pytest.mark.parametrize("bad", ["x; DROP TABLE y", "a b", "'v'", "a.b.c", "", "1x", 'a"b'])
def test_only_plain_identifiers_pass(bad):
    with pytest.raises(ValueError, match="identifier"):
        quote_identifier(bad)


def test_every_placeholder_given_and_used():
    with pytest.raises(ValueError, match="placeholders"):
        render("SELECT * FROM {name}")
    with pytest.raises(ValueError, match="placeholders"):
        render("SELECT * FROM {name}", name="t", period="day")


def test_models_are_read_from_the_domain_folder():
    import assets.kpis.marts as kpis

    folder = sql_dir(kpis.__file__)
    assert read_model(folder, "kpi_sales_daily").lstrip().startswith(("--", "CREATE"))
    with pytest.raises(FileNotFoundError, match="no_such_model.sql"):
        read_model(folder, "no_such_model")
