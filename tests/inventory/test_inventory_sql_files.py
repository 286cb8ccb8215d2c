"""How the inventory SQL is kept (issue #18): one statement per file, rules written once, rows
read by column name, no spliced SQL in Python. Read from the source; no model is run here
except to see that a build leaves nothing behind on the connection."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import duckdb
import pytest

from assets.inventory import models
from inventory_builder import new_warehouse, shirt_story

PACKAGE = Path(models.__file__).parent
SQL_FILES = sorted((PACKAGE / "sql").glob("*.sql"))
PYTHON_FILES = sorted(PACKAGE.glob("*.py"))
MAX_FUNCTION_LINES = 80


def strings_of(path: Path) -> list[str]:
    """Every string literal of a Python file, and the literal parts of its f-strings."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)]


def test_every_mart_is_one_statement_in_its_own_file():
    names = {p.stem for p in SQL_FILES}
    assert set(models.BUILD_ORDER) <= names, f"no sql/<model>.sql for {set(models.BUILD_ORDER) - names}"
    for path in SQL_FILES:
        statements = duckdb.extract_statements(path.read_text(encoding="utf-8"))
        assert len(statements) == 1, f"{path.name}: {len(statements)} statements"
        created = re.search(r"CREATE OR REPLACE (TEMP )?TABLE (\S+) AS", path.read_text())
        if statements[0].type == duckdb.StatementType.CREATE:
            assert created and created[2] in (f"marts.{path.stem}", path.stem), (
                f"{path.name} must create the table it is named after")
        else:
            assert statements[0].type == duckdb.StatementType.SELECT, path.name


def test_every_file_is_used_and_no_python_module_holds_sql():
    used = set(strings_of(PACKAGE / "models.py")) | set(strings_of(PACKAGE / "checks.py"))
    assert {p.stem for p in SQL_FILES} <= used | set(models.BUILD_ORDER)
    for path in PYTHON_FILES:
        if path.name == "assets.py":  # the metadata queries of the asset pages stay beside them
            continue
        sql = [s for s in strings_of(path) if re.search(r"\b(SELECT|CREATE|INSERT)\b", s)]
        assert not sql, f"{path.name} holds SQL: {sql[0][:60]!r}"


def test_shared_rules_are_written_once():
    texts = {p.name: p.read_text(encoding="utf-8") for p in SQL_FILES}
    for rule, home in (("arg_min(location_id, (priority, location_id))", "first_channel_location.sql"),
                       ("channel_buffer_overrides", "channel_buffers.sql"),
                       ("safety_buffer_pct", "channel_buffers.sql")):
        assert [name for name, text in texts.items() if rule in text] == [home], rule


@pytest.mark.parametrize("path", PYTHON_FILES, ids=lambda p: p.name)
def test_rows_are_read_by_column_name(path):
    # frames (.pl()) are read by name; fetchall()/fetchone() tuples are read by position
    calls = [node.lineno for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
             if isinstance(node, ast.Attribute) and node.attr in ("fetchall", "fetchone", "fetchmany")]
    assert not calls, f"{path.name}: rows read by position at lines {calls}"


@pytest.mark.parametrize("path", PYTHON_FILES, ids=lambda p: p.name)
def test_no_function_over_80_lines(path):
    long = [(node.name, node.end_lineno - node.lineno + 1)
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"{path.name}: {long}"


def test_a_build_leaves_no_temporary_table_or_frame_on_the_connection():
    con = new_warehouse()
    shirt_story(con)
    models.build_all(con)
    left = con.execute("SELECT table_name FROM duckdb_tables() WHERE temporary "
                       "UNION ALL SELECT view_name FROM duckdb_views() WHERE temporary "
                       "AND view_name = 'channel_buffer_overrides'").fetchall()
    assert left == []
    con.close()
