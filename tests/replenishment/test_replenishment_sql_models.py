"""The replenishment SQL is kept as models (issue #18): one statement a file in
assets/replenishment/sql/, values as $parameters, no SQL text built in Python, every model
used by the code."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from assets.replenishment import tables

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "alerts"))

from sql_model_checks import not_one_statement, spliced_sql  # noqa: E402

DOMAIN = Path(tables.__file__).resolve().parent


def sql_files() -> list[Path]:
    return sorted((DOMAIN / "sql").glob("*.sql"))


def test_every_model_is_one_statement():
    assert len(sql_files()) >= 25
    assert not_one_statement(DOMAIN) == {}


def test_no_sql_is_built_with_f_strings():
    """The old sql.py and transfers.py composed their statements from CTE texts that way."""
    assert spliced_sql(DOMAIN) == []


def test_every_model_is_used_by_the_code():
    code = "\n".join(p.read_text() for p in DOMAIN.glob("*.py"))
    named = set(re.findall(r'"([a-z_]+)"', code)) | {
        t.split(".")[1] for t in re.findall(r'"((?:marts|ops)\.[a-z_]+)"', code)}
    assert {p.stem for p in sql_files()} - named == set()
