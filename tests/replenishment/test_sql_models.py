"""The replenishment SQL is kept as models (issue #18): one statement a file in
assets/replenishment/sql/, values as $parameters, no SQL text built in Python, every model
used by the code."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import duckdb

from assets.replenishment import tables
from assets.warehouse.sql_files import render

DOMAIN = Path(tables.__file__).resolve().parent
SQL_WORDS = ("SELECT ", "INSERT ", "CREATE ", "MERGE ", " FROM ", "DELETE ", "DROP ")


def sql_files() -> list[Path]:
    return sorted((DOMAIN / "sql").glob("*.sql"))


def statements(path: Path) -> int:
    """How many statements the model holds (its {identifiers} filled in as render does)."""
    text = path.read_text()
    fields = {field for _, field, _, _ in string.Formatter().parse(text) if field}
    return len(duckdb.extract_statements(render(text, **{f: "some_table" for f in fields})))


def test_every_model_is_one_statement():
    assert len(sql_files()) >= 25
    many = {p.name: n for p in sql_files() if (n := statements(p)) != 1}
    assert many == {}


def test_no_sql_is_built_with_f_strings():
    """An f-string holding SQL words is SQL spliced in Python (the old sql.py and transfers.py
    composed their statements from CTE texts that way)."""
    spliced = []
    for path in sorted(DOMAIN.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                if any(word in text.upper() for word in SQL_WORDS):
                    spliced.append(f"{path.name}:{node.lineno}")
    assert spliced == []


def test_every_model_is_used_by_the_code():
    code = "\n".join(p.read_text() for p in DOMAIN.glob("*.py"))
    named = set(re.findall(r'"([a-z_]+)"', code)) | {
        t.split(".")[1] for t in re.findall(r'"((?:marts|ops)\.[a-z_]+)"', code)}
    assert {p.stem for p in sql_files()} - named == set()
