"""Checks that a domain keeps its SQL as models (issue #18), shared by the alert and the
replenishment tests: one statement a file in ``<domain>/sql/``, no SQL text built in Python."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import duckdb

SQL_WORDS = ("SELECT ", "INSERT ", "CREATE ", "MERGE ", " FROM ", "DELETE ", "DROP ")


def statements(path: Path) -> int:
    """How many statements the model holds, its ``{identifier}`` placeholders (filled in by
    ``sql_files.render``) taken as a table name; DuckDB's own ``format('{}', ...)`` braces
    are SQL and stay."""
    text = re.sub(r"\{[A-Za-z_]\w*\}", "some_table", path.read_text())
    return len(duckdb.extract_statements(text))


def not_one_statement(domain: Path) -> dict[str, int]:
    """The models of ``domain/sql/`` that hold other than one statement, with their count."""
    return {p.name: n for p in sorted((domain / "sql").glob("*.sql")) if (n := statements(p)) != 1}


def spliced_sql(domain: Path) -> list[str]:
    """``file:line`` of every f-string in ``domain/*.py`` that holds SQL words: SQL text
    spliced in Python."""
    found = []
    for path in sorted(domain.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.JoinedStr):
                text = "".join(v.value for v in node.values if isinstance(v, ast.Constant))
                if any(word in text.upper() for word in SQL_WORDS):
                    found.append(f"{path.name}:{node.lineno}")
    return found
