"""SQL models kept as files: one statement per ``assets/<domain>/sql/<model>.sql``.

Values always travel as DuckDB ``$parameters``. The only text ever put into a statement is an
identifier this code names itself (a table, a column, a period), and it goes through
:func:`render`, which quotes it; nothing from input is ever spliced.
"""

from __future__ import annotations

import re
import string
from functools import cache
from pathlib import Path

_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def sql_dir(module_file: str) -> Path:
    """The ``sql/`` folder beside a domain's module (pass ``__file__``)."""
    return Path(module_file).resolve().parent / "sql"


@cache
def read_model(folder: Path, name: str) -> str:
    """The text of ``<folder>/<name>.sql`` (read once per process). Raises FileNotFoundError
    naming the file when the model does not exist."""
    return (folder / f"{name}.sql").read_text(encoding="utf-8")


def quote_identifier(name: str) -> str:
    """``name`` as a DuckDB identifier. Only plain names (letters, digits, ``_``; or a
    ``schema.table`` pair of them) are accepted: anything else is a programming error."""
    parts = name.split(".")
    if not 1 <= len(parts) <= 2 or not all(_IDENTIFIER.fullmatch(p) for p in parts):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return ".".join(f'"{p}"' for p in parts)


def render(template: str, **identifiers: str) -> str:
    """Fill the ``{placeholders}`` of a model with quoted identifiers.

    Every placeholder must be given and every given name used, so a renamed placeholder fails
    loudly instead of leaving ``{name}`` in the SQL."""
    wanted = {field for _, field, _, _ in string.Formatter().parse(template) if field}
    if wanted != set(identifiers):
        raise ValueError(f"placeholders {sorted(wanted)} but identifiers {sorted(identifiers)}")
    return template.format(**{k: quote_identifier(v) for k, v in identifiers.items()})
