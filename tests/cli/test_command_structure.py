"""The command line's structure (issue #18, build item 5): commands read the warehouse only
through one query layer, which returns frames read by column name; no command module imports
another's private helpers; the command list is kept in one place (pipelines/cli.py MANUAL),
which the README's command table follows."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import duckdb

from pipelines import queries
from pipelines.summary import warehouse_summary

ROOT = Path(__file__).resolve().parents[2]
COMMANDS = ROOT / "pipelines" / "commands"
# a DuckDB call that runs SQL or hands back rows as tuples (read by position)
SQL_CALLS = {"execute", "sql", "query", "fetchall", "fetchone", "fetchmany"}
TUPLE_CALLS = {"fetchall", "fetchone", "fetchmany", "rows", "row"}


def _named(call: ast.Call) -> bool:
    return any(k.arg == "named" and getattr(k.value, "value", None) is True
               for k in call.keywords)


def _calls(path: Path, names: set[str]) -> list[str]:
    """``file:line .name(`` of every call of a method named in ``names`` (a Polars
    ``.row(..., named=True)`` reads by name: not listed)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [f"{path.relative_to(ROOT)}:{node.lineno} .{node.func.attr}("
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
            and node.func.attr in names and not _named(node)]


def test_commands_and_the_summary_run_no_sql_of_their_own():
    files = [*sorted(COMMANDS.glob("*.py")), ROOT / "pipelines" / "summary.py"]
    found = [c for f in files for c in _calls(f, SQL_CALLS)]
    assert not found, "SQL outside pipelines/queries.py:\n" + "\n".join(found)


def test_the_query_layer_hands_back_frames_never_tuples():
    found = _calls(ROOT / "pipelines" / "queries.py", TUPLE_CALLS)
    assert not found, "rows read by position:\n" + "\n".join(found)


def test_no_command_module_imports_another_ones_private_helpers():
    found = []
    for path in sorted(COMMANDS.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.ImportFrom) and (node.module or "").startswith("pipelines.")
                    and any(a.name.startswith("_") for a in node.names)):
                found.append(f"{path.name}:{node.lineno} from {node.module} import "
                             + ", ".join(a.name for a in node.names))
    assert not found, "\n".join(found)


def test_the_command_list_is_kept_in_one_place_and_the_readme_follows_it():
    from pipelines.cli import MANUAL, main

    listed = {command.name for _, entries in MANUAL for command, _, _ in entries}
    assert listed == set(main.list_commands(None))
    assert len(listed) >= 24  # the whole command line, not an empty list
    # no second list beside the manual: command modules no longer declare their own
    assert not [p.name for p in COMMANDS.glob("*.py") if "\nCOMMANDS = " in p.read_text()]
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    # the first cell of each row: `shelfwise approve` / `reject` names two commands
    cells = [line.split("|")[1] for line in readme.splitlines() if line.startswith("| `shelfwise")]
    in_table = {name for cell in cells
                for name in re.findall(r"`(?:shelfwise )?([a-z]+)", cell)}
    assert in_table == listed, (f"README lacks {sorted(listed - in_table)}, "
                                f"lists unknown {sorted(in_table - listed)}")


def test_status_counts_skipped_records_as_whole_numbers(tmp_path):
    # DuckDB sums whole numbers to HUGEINT, which reaches Polars as a decimal: the query
    # layer must hand the count back as an int (a right-aligned number in `shelfwise status`)
    path = tmp_path / "warehouse.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE SCHEMA ops; CREATE SCHEMA quarantine; CREATE SCHEMA core")
    con.execute("""CREATE TABLE ops.ingested_files (entity VARCHAR, adapter VARCHAR,
                   status VARCHAR, rows_skipped INTEGER)""")
    con.execute("""INSERT INTO ops.ingested_files VALUES ('order_lines', 'ebay_orders', 'loaded', 7),
                   ('order_lines', 'ebay_orders', 'loaded', 1205),
                   ('order_lines', 'ebay_orders', 'failed', 99),
                   ('order_lines', 'square_item_sales', 'loaded', 0)""")
    con.execute("""CREATE TABLE quarantine.rows (entity VARCHAR, rule VARCHAR,
                   source_file VARCHAR)""")
    con.execute("CREATE TABLE core.products (sku VARCHAR)")
    con.execute("INSERT INTO core.products VALUES ('A'), ('B'), ('C')")
    skipped = queries.skipped_records(con)
    counts = queries.layer_row_counts(con)
    con.close()
    assert skipped.to_dicts() == [
        {"entity": "order_lines", "adapter": "ebay_orders", "rows": 1212, "files": 2}]
    assert isinstance(skipped["rows"][0], int)
    assert counts.select("schema_name", "table_name", "row_count").rows() == [
        ("core", "products", 3), ("quarantine", "rows", 0)]
    text = warehouse_summary(path)
    assert "order_lines  ebay_orders  1,212      2" in text, text


def test_a_query_runs_on_a_connection_left_with_an_unfinished_result(tmp_path):
    # a caller may leave a fetchone() result open on the connection it passes (as
    # assets.features.present_entities once did); DuckDB 2.0 then refuses con.sql() on it
    con = duckdb.connect()
    con.execute("CREATE SCHEMA core; CREATE TABLE core.products (sku VARCHAR, source_file VARCHAR)")
    con.execute("INSERT INTO core.products VALUES ('A', 'derived'), ('B', 'products.csv'), "
                "('C', 'derived')")
    con.execute("SELECT * FROM range(10000)").fetchone()
    assert queries.derived_product_count(con, "derived") == 2
