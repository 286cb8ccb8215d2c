"""The corpus (#20.9): one file per case of bad or unusual input, each with its expected
records read, loaded, quarantined and skipped, its status and its findings, in one table
(tests/ingest/corpus/cases.csv), run by one parametrized test.

Cases live in ``tests/ingest/corpus/<case>/<inbox path>`` (new) and
``tests/fixtures/bad_inputs/<case>/<inbox path>`` (the earlier corpus); a few are generated
at test time (a symlink, a named pipe: git cannot hold them portably). Every case is
ingested on top of a warehouse that already holds the good fixture inbox, and for every
file that landed: records read = loaded + quarantined + skipped.

cases.csv columns: ``case``, ``source`` (corpus | bad_inputs | generated), ``status``
(loaded | failed), ``read``, ``loaded``, ``quarantined``, ``skipped``, ``findings``: the
(line, rule) pairs that must be reported, ``line:rule`` separated by spaces, ``-`` for a
whole-file finding. Each row was checked by hand against its file (the files are a few
lines each: count the records).
"""

from __future__ import annotations

import csv
import os
import shutil
from pathlib import Path

import pytest
from ingest_testkit import BAD_INPUTS, fixture_home, ingest, rows

from assets.settings import load_settings

CORPUS = Path(__file__).parent / "corpus"
CASES = {row["case"]: row for row in csv.DictReader((CORPUS / "cases.csv").open(encoding="utf-8"))}


def _generate(case: str, inbox: Path) -> None:
    target = inbox / "products"
    target.mkdir(parents=True, exist_ok=True)
    if case == "symlink_to_a_system_file":
        secret = inbox.parent / "system-file"
        secret.write_text("root:x:0:0:TOP-SECRET\n")
        os.symlink(secret, target / "linked.csv")
    elif case == "named_pipe":
        os.mkfifo(target / "pipe.csv")
    else:
        raise AssertionError(case)


@pytest.fixture(scope="module")
def base_home(tmp_path_factory) -> Path:
    return fixture_home(tmp_path_factory.mktemp("base"))


def test_the_table_covers_every_case_directory():
    dirs = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    bad = {p.name for p in BAD_INPUTS.iterdir() if p.is_dir()}
    assert {c for c, r in CASES.items() if r["source"] == "corpus"} == dirs
    assert {c for c, r in CASES.items() if r["source"] == "bad_inputs"} == bad


@pytest.mark.parametrize("case", sorted(CASES))
def test_case(case, base_home, tmp_path):
    want = CASES[case]
    home = tmp_path / "home"
    shutil.copytree(base_home, home)
    settings = load_settings(home)
    before = set(rows(settings, "SELECT source_file FROM ops.ingested_files"))
    if want["source"] == "generated":
        _generate(case, settings.inbox)
    else:
        root = CORPUS if want["source"] == "corpus" else BAD_INPUTS
        shutil.copytree(root / case, settings.inbox, dirs_exist_ok=True)

    report = ingest(settings)  # never raises
    (fr,) = [f for f in report.files if (f.source_file,) not in before]
    rel = fr.source_file
    got = rows(
        settings,
        """SELECT status, rows_read, rows_loaded, rows_quarantined, rows_skipped
           FROM ops.ingested_files WHERE source_file = ? AND batch_id = ?""",
        [rel, report.batch_id],
    )[0]
    expected = (want["status"], int(want["read"]), int(want["loaded"]), int(want["quarantined"]),
                int(want["skipped"]))
    assert got == expected, f"{case}: (status, read, loaded, quarantined, skipped) {got}"
    status, read, loaded, quarantined, skipped = got
    if status == "loaded":
        assert read == loaded + quarantined + skipped
        landed = rows(settings, f"SELECT count(DISTINCT source_line) FROM raw.{fr.entity} WHERE source_file = ?", [rel])
        assert landed == [(loaded,)]
        assert rows(settings, "SELECT count(*) FROM quarantine.rows WHERE source_file = ?", [rel]) == [(quarantined,)]

    found = rows(
        settings,
        """SELECT source_line, rule FROM quarantine.rows WHERE source_file = ?
           UNION ALL SELECT source_line, rule FROM ops.ingest_messages
           WHERE batch_id = ? AND (source_file = ? OR source_file IS NULL)""",
        [rel, report.batch_id, rel],
    )
    for finding in want["findings"].split():
        line, rule = finding.split(":")
        line = None if line == "-" else int(line)
        assert (line, rule) in found, f"{case}: no {rule} at line {line} in {sorted(found, key=str)}"
