"""Issue #18 items 2 and 3 for the forecast domain: every SQL statement is one model file in
``assets/forecast/sql/`` (none left as Python text), each file holds one statement and is run by
the code, and rows are read by column name (no ``fetchall()[i]`` / ``fetchone()[i]``)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import duckdb

DOMAIN = Path(__file__).resolve().parents[2] / "assets" / "forecast"
SQL_TEXT = re.compile(r"\b(SELECT|CREATE|INSERT|DROP|DELETE|UPDATE)\b\s", re.IGNORECASE)


def _modules() -> dict[Path, ast.Module]:
    return {p: ast.parse(p.read_text(encoding="utf-8")) for p in sorted(DOMAIN.glob("*.py"))}


def _docstrings(tree: ast.Module) -> set[int]:
    return {id(n.body[0].value) for n in ast.walk(tree)
            if isinstance(n, ast.Module | ast.FunctionDef | ast.ClassDef) and n.body
            and isinstance(n.body[0], ast.Expr) and isinstance(n.body[0].value, ast.Constant)}


def sql_in_python(modules: dict[Path, ast.Module]) -> list[str]:
    """``file:line`` of every string literal (docstrings aside) that reads as a statement."""
    found = []
    for path, tree in modules.items():
        docs = _docstrings(tree)
        for node in ast.walk(tree):
            literal = (isinstance(node, ast.Constant) and isinstance(node.value, str)
                       and id(node) not in docs and SQL_TEXT.search(node.value))
            f_string = isinstance(node, ast.JoinedStr) and SQL_TEXT.search(ast.unparse(node))
            if literal or f_string:
                found.append(f"{path.name}:{node.lineno}")
    return sorted(set(found))


def rows_read_by_position(modules: dict[Path, ast.Module]) -> list[str]:
    """``file:line`` of every ``<...>.fetchall()`` / ``fetchone()`` result indexed by number."""
    found = []
    for path, tree in modules.items():
        for node in ast.walk(tree):
            value = node.value if isinstance(node, ast.Subscript) else None
            while isinstance(value, ast.Subscript):
                value = value.value
            if (isinstance(value, ast.Call) and isinstance(value.func, ast.Attribute)
                    and value.func.attr in ("fetchall", "fetchone", "fetchmany")):
                found.append(f"{path.name}:{node.lineno}")
    return sorted(set(found))


def test_the_checks_find_what_they_look_for(tmp_path):
    source = ('"""SELECT in a docstring is prose."""\n'
              'Q = "SELECT 1"\n'
              'def f(con, t):\n'
              '    con.execute(f"DROP TABLE {t}")\n'
              '    return con.execute("x").fetchall()[0][0]\n')
    tree = {tmp_path / "m.py": ast.parse(source)}
    assert sql_in_python(tree) == ["m.py:2", "m.py:4"]
    assert rows_read_by_position(tree) == ["m.py:5"]


def test_no_sql_left_in_the_python_of_the_forecast_domain():
    assert sql_in_python(_modules()) == []


def test_the_forecast_domain_reads_rows_by_column_name():
    assert rows_read_by_position(_modules()) == []


def test_every_model_file_is_one_statement_and_is_run_by_the_code():
    code = "\n".join(p.read_text(encoding="utf-8") for p in DOMAIN.glob("*.py"))
    models = sorted((DOMAIN / "sql").glob("*.sql"))
    assert models
    con = duckdb.connect()
    for model in models:
        # an identifier placeholder ({table}) is filled by render(): parse with a plain name
        text = re.sub(r"\{\w+\}", "marts.placeholder", model.read_text(encoding="utf-8"))
        assert len(con.extract_statements(text)) == 1, model.name
        assert f'"{model.stem}"' in code, f"{model.name} is not read by assets/forecast"
