"""`shelfwise ingest`: exits non-zero listing the files it could not land (#20.8), and
--accept-correction applies a held correction (#20.5)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from ingest_testkit import make_home, rows, write

from pipelines.cli import main
from pipelines.summary import failed_files, failed_files_summary

pytestmark = pytest.mark.integration


def test_ingest_lists_failed_and_held_files_and_exits_non_zero(tmp_path):
    settings = make_home(tmp_path)
    home = ["--home", str(settings.home)]
    write(settings.inbox / "products/extra.csv", "sku,name,case_pack,moq,is_bundle\nP-1,A,1,1,false\nP-2,B,1,1,false\n")
    ok = CliRunner().invoke(main, [*home, "ingest"])
    assert ok.exit_code == 0, ok.output
    assert failed_files_summary(settings.warehouse_path) == ""

    write(settings.inbox / "products/extra.csv", "sku,name,case_pack,moq,is_bundle\n")  # emptied
    write(settings.inbox / "products/semicolons.csv", "sku;name\nX;Y\n")
    result = CliRunner().invoke(main, [*home, "ingest"])
    assert result.exit_code == 1
    assert sorted((f, s, r) for f, s, r, _ in failed_files(settings.warehouse_path)) == [
        ("products/extra.csv", "held", "correction_held"),
        ("products/semicolons.csv", "failed", "missing_columns, unexpected_columns"),
    ]
    for text in ("products/semicolons.csv", "missing_columns", "correction_held"):
        assert text in result.output
    assert rows(settings, "SELECT count(*) FROM core.products WHERE sku LIKE 'P-%'") == [(2,)]

    (settings.inbox / "products/semicolons.csv").unlink()
    accepted = CliRunner().invoke(main, [*home, "ingest", "--accept-correction", "products/extra.csv"])
    assert accepted.exit_code == 0, accepted.output
    assert rows(settings, "SELECT count(*) FROM raw.products WHERE source_file = 'products/extra.csv'") == [(0,)]
