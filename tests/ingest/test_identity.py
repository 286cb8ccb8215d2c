"""Customer identity by allow-list (#20.7, #15.4): every adapter is fed a file whose identity
columns are renamed, padded and translated, and no name, e-mail, street, phone or full
postcode may appear in any warehouse table (every table and column of the DuckDB file, read
as text) or in any file shelfwise writes.

The values are invented. What makes them leak-prone: an adapter knows identity columns by
their exact header names (``pii_columns``); a renamed one is a column it does not know, and
only an allow-list of safe columns keeps it out of quarantine rows and messages.
"""

from __future__ import annotations

import csv
import io
import shutil
from pathlib import Path

import pytest
from ingest_testkit import adapter_helpers as helpers, ingest, make_home, write

from assets.ingest.adapters import CHANNEL_ADAPTERS, GENERIC_ADAPTERS
from assets.warehouse import connect

# formats shelfwise reads but never writes: their fixture files (real layouts, invented people)
READ_ONLY_FIXTURES = {
    "ebay_sales_history": Path(__file__).parents[2] / "data" / "samples" / "channels" / "ebay"
    / "SalesHistory.csv",
}

# identity under names no adapter declares (renamed, padded, translated), with invented values
EXTRA_IDENTITY = {
    "Delivery Name": "Jane Invented-Roe",
    " Buyer Name ": "Zoltan Fictitious",
    "Nom de livraison": "Amélie Imaginaire",
    "E-Mail": "jane.invented@example.org",
    "Straße": "Erfundene Straße 17",
    "Phone Number ": "+44 7700 900417",
    "Zip/Postal Code": "SW1A 1ZZ",
}
# the export rows' own identity (adapters/conftest.make_export_rows) must not leak either
EXPORT_IDENTITY = ["Ann Example", "ann@example.com", "1 Test Street", "LS1 4AB", "Bob Example",
                   "bob@example.com", "2 Test Street", "D02 X285", "78701-1234", "Cy O'Example"]
SECRETS = list(EXTRA_IDENTITY.values()) + EXPORT_IDENTITY + ["SW1A1ZZ", "7700 900417"]

# how an adapter's own identity columns are re-spelled: padded, or translated
RESPELL = {0: lambda h: f"  {h} ", 1: lambda h: f"{h} (Lieferung)", 2: lambda h: h.upper()}



def _file_name(adapter) -> str:
    """A file name the adapter claims: its first glob with a date for the wildcards."""
    return adapter.file_globs[0].replace("[0-9]", "2").replace("*", "2024-03-06")


def _respelled(adapter, path: Path) -> None:
    """Rewrite ``path``: the adapter's optional identity columns re-spelled, the extra
    identity columns appended, and one record given an extra field (a reader reject whose
    text is at hand)."""
    quote = adapter.quote_char
    sep = adapter.separator
    text = path.read_text(encoding="utf-8-sig")
    lines = text.splitlines(keepends=True)
    skip, body = lines[: adapter.skip_rows], "".join(lines[adapter.skip_rows :])
    kw = dict(delimiter=sep, quoting=csv.QUOTE_NONE) if quote is None else dict(delimiter=sep)
    records = list(csv.reader(io.StringIO(body, newline=""), **kw))
    header, rows = records[0], [r for r in records[1:] if r]
    pii = [h for h in adapter.pii_columns if h in header and h not in adapter.required_columns]
    for k, name in enumerate(pii):
        header[header.index(name)] = RESPELL[k % 3](name)
    header += list(EXTRA_IDENTITY)
    rows = [r + list(EXTRA_IDENTITY.values()) if len(r) > 1 else r for r in rows]
    rows.append(rows[0] + ["Jane Invented-Roe"])  # one field too many
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n", **({**kw, "escapechar": "\\"} if quote is None else kw))
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text("".join(skip) + out.getvalue(), encoding="utf-8")


def _generic_files(inbox: Path) -> None:
    """The canonical formats: extra identity columns fail a file (unexpected_columns), and a
    file without its header row has a customer record where the header should be."""
    for adapter in GENERIC_ADAPTERS:
        folder = "orders/web" if adapter.entity == "order_lines" else adapter.folder
        name = "x.canonical.csv" if adapter.entity == "order_lines" else f"{adapter.name}.csv"
        header = list(adapter.required_columns) + list(EXTRA_IDENTITY)
        row = ["1"] * len(adapter.required_columns) + list(EXTRA_IDENTITY.values())
        write(inbox / folder / f"renamed-{name}", ",".join(header) + "\n" + ",".join(row) + "\n")
        write(inbox / folder / f"headless-{name}", ",".join(row) + "\n" + ",".join(row) + "\n")


def _scan_warehouse(path: Path) -> list[tuple[str, str]]:
    leaks = []
    with connect(path, read_only=True) as con:
        tables = con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() ORDER BY 1, 2"
        ).fetchall()
        assert len(tables) > 20
        for schema, table in tables:
            text = con.execute(
                f'SELECT string_agg(CAST(t AS VARCHAR), chr(10)) FROM "{schema}"."{table}" AS t'
            ).fetchall()[0][0] or ""
            leaks += [(f"{schema}.{table}", s) for s in SECRETS if s.lower() in text.lower()]
    return leaks


def test_no_identity_in_any_table_or_file(tmp_path):
    settings = make_home(tmp_path)
    export_rows = helpers.make_export_rows()
    for adapter in CHANNEL_ADAPTERS:
        path = settings.inbox / "orders" / adapter.name / _file_name(adapter)
        path.parent.mkdir(parents=True, exist_ok=True)
        if adapter.write is not None:
            adapter.write(export_rows, path)
        else:  # a read-only format: its committed fixture in the real layout
            shutil.copy(READ_ONLY_FIXTURES[adapter.name], path)
        _respelled(adapter, path)
    _generic_files(settings.inbox)
    report = ingest(settings)
    by_adapter = {f.adapter for f in report.files}
    assert {a.name for a in CHANNEL_ADAPTERS} <= by_adapter
    # the test means something: rejected records with their text, and failed headers
    from ingest_testkit import rows

    assert rows(settings, "SELECT count(*) FROM quarantine.rows WHERE row_json <> '{}'")[0][0] >= 7
    assert rows(settings, "SELECT count(*) FROM ops.ingest_messages WHERE rule IN "
                          "('unexpected_columns', 'missing_columns')")[0][0] >= 10
    assert _scan_warehouse(settings.warehouse_path) == []
    written = [p for p in settings.home.rglob("*")
               if p.is_file() and settings.inbox not in p.parents and p.suffix != ".duckdb"]
    for p in written:
        text = p.read_bytes().decode("utf-8", errors="replace").lower()
        assert not [s for s in SECRETS if s.lower() in text], p
