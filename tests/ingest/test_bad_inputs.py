"""The bad-input corpus (tests/fixtures/bad_inputs/<case>/<inbox path>): for every case, no
crash, a message naming the file, the line and the rule, and every good row landed.

Each case is ingested on top of a warehouse that already holds the good fixture inbox (the
master data its references need).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from ingest_testkit import BAD_INPUTS, fixture_home, ingest, rows, write

from assets.settings import load_settings

# case -> (expected findings as (line, rule); line None = the whole file), good source lines
CASES: dict[str, tuple[list[tuple[int | None, str]], list[int]]] = {
    "truncated_file": ([(4, "wrong_field_count"), (4, "truncated_file")], [2, 3]),
    "wrong_delimiter": ([(1, "missing_columns")], []),
    "latin1": ([(3, "encoding_fallback"), (4, "quantity_not_positive")], [2, 3]),
    "missing_column": ([(1, "missing_columns")], []),
    "extra_column": ([(1, "unexpected_columns")], []),
    "renamed_column": ([(1, "missing_columns")], []),
    "empty_file": ([(None, "empty_file")], []),
    "header_only": ([(None, "no_records")], []),
    "negative_quantity": ([(3, "quantity_not_positive")], [2, 4]),
    "blank_price": ([(3, "missing_value")], [2]),
    "nan_price": ([(2, "not_a_number")], [3]),
    "unknown_sku": ([(3, "unknown_sku")], [2]),
    "unknown_currency": ([(2, "unknown_currency")], [3]),
    "date_1970": ([(3, "timestamp_out_of_range")], [2]),
    "future_date": ([(2, "timestamp_in_future")], [3]),
    "conflicting_duplicates": ([(2, "conflicting_duplicate"), (4, "conflicting_duplicate")], [3, 5]),
    # a formula sign in a product name is data (neutralised where shelfwise writes files); in
    # a SKU it is refused
    "formula_injection": ([(4, "formula_injection")], [2, 3]),
    "sql_text": ([(3, "unknown_sku")], [2]),
    "unicode_sku": ([(3, "unknown_sku"), (4, "invalid_characters"), (5, "unknown_sku")], [2]),
    "ragged_rows": ([(3, "wrong_field_count"), (4, "wrong_field_count")], [2, 5]),
    "bad_enum": ([(2, "not_in_allowed_values")], [3]),
    "negative_on_hand": ([(3, "negative_stock")], [2]),
    "bad_boolean": ([(2, "not_a_boolean")], [3]),
    "bad_date_format": ([(2, "not_a_date")], [3]),
    "comma_decimal": ([(3, "not_a_number")], [2]),
    "blank_required_text": ([(2, "missing_value")], [3]),
    "quoted_newlines": ([(5, "quantity_not_positive")], [2, 6]),
    "zero_fx_rate": ([(2, "rate_not_positive")], [3]),
    "channel_mismatch": ([(2, "channel_mismatch")], [3]),
    "excel_bom_crlf": ([(3, "quantity_not_positive")], [2]),
    "nulls_spelled_out": ([(2, "not_an_integer")], [3]),
    # generated into tmp by the test rather than committed
    "ten_megabyte_line": ([(3, "text_too_long")], [2, 4]),
}


def _generate_ten_megabyte_line(target: Path) -> None:
    name = "x" * (10 * 1024 * 1024)
    write(
        target / "products" / "huge.csv",
        f"sku,name,case_pack,moq,is_bundle\nBIG-1,Mug,1,1,false\nBIG-2,{name},1,1,false\nBIG-3,Cup,1,1,false\n",
    )


def test_corpus_is_complete():
    committed = {p.name for p in BAD_INPUTS.iterdir() if p.is_dir()}
    assert committed == set(CASES) - {"ten_megabyte_line"}
    assert len(CASES) >= 25


@pytest.fixture(scope="module")
def base_home(tmp_path_factory) -> Path:
    """A home whose warehouse already holds the good fixture inbox."""
    return fixture_home(tmp_path_factory.mktemp("base"))


def _entity(rel: str) -> str:
    folder = rel.split("/")[0]
    return "order_lines" if folder == "orders" else folder


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input(case, base_home, tmp_path):
    findings, good_lines = CASES[case]
    home = tmp_path / "home"
    shutil.copytree(base_home, home)
    settings = load_settings(home)
    case_dir = tmp_path / "case"
    if case == "ten_megabyte_line":
        _generate_ten_megabyte_line(case_dir)
    else:
        shutil.copytree(BAD_INPUTS / case, case_dir)
    files = [p.relative_to(case_dir).as_posix() for p in case_dir.rglob("*") if p.is_file()]
    assert len(files) == 1
    (rel,) = files
    shutil.copytree(case_dir, settings.inbox, dirs_exist_ok=True)

    report = ingest(settings)  # no crash
    assert [f.source_file for f in report.files] == [rel]

    found = rows(
        settings,
        """SELECT source_line, rule, message FROM quarantine.rows WHERE source_file = ?
           UNION ALL
           SELECT source_line, rule, message FROM ops.ingest_messages WHERE source_file = ?""",
        [rel, rel],
    )
    for line, rule in findings:
        hits = [m for ln, r, m in found if ln == line and r == rule]
        assert hits, f"{case}: no message for line {line} rule {rule} in {found}"
        assert all(m for m in hits)
    quarantined = rows(settings, "SELECT source_line, rule, message FROM quarantine.rows WHERE source_file = ?", [rel])
    for _, rule, message in quarantined:
        assert f"[{rule}]" in message or rule in ("wrong_field_count", "unterminated_quote")

    entity = _entity(rel)
    landed = [r[0] for r in rows(settings, f"SELECT source_line FROM raw.{entity} WHERE source_file = ? ORDER BY 1", [rel])]
    assert landed == good_lines
    read, loaded, quarantined_n, status = rows(
        settings,
        "SELECT rows_read, rows_loaded, rows_quarantined, status FROM ops.ingested_files WHERE source_file = ?",
        [rel],
    )[0]
    assert read == loaded + quarantined_n
    assert status == ("failed" if any(r in ("missing_columns", "unexpected_columns") for _, r in findings) else "loaded")
    # whatever the text said, the warehouse is intact
    assert rows(settings, "SELECT count(*) FROM core.products")[0][0] >= 4
