"""docs/ingestion.md, "Rules that keep data safe", names the tests that prove each promise of
issue #20: every name there must be a real test function (read from the test files' syntax
trees, nothing imported), and every corpus case it names a row of corpus/cases.csv."""

from __future__ import annotations

import ast
import csv
import fnmatch
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
INGEST_TESTS = ROOT / "tests" / "ingest"


def _section() -> str:
    text = (ROOT / "docs" / "ingestion.md").read_text(encoding="utf-8")
    start = text.index("## Rules that keep data safe")
    return text[start:text.index("\n## ", start + 1)]


def _tests_in(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return {n.name for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef) and n.name.startswith("test_")}


def named(section: str) -> tuple[list[tuple[str, str]], list[str]]:
    """((file, test) pairs, corpus cases) the section's table names, in order."""
    tests, cases = [], []
    for row in (line for line in section.splitlines() if line.startswith("| (#20")):
        proof = row.rstrip(" |").rsplit(" | ", 1)[1]
        current = None
        for part in re.split(r";\s*", proof):
            is_corpus = part.lstrip().startswith("corpus")
            for token in re.findall(r"`([^`]+)`", part):
                if is_corpus:
                    cases.append(token)
                elif "::" in token:
                    file, test = token.split("::")
                    current = file or current
                    tests.append((current, test))
                elif token.endswith(".py"):
                    current = token
                    tests.append((current, "*"))
    return tests, cases


def test_every_test_this_section_names_exists():
    tests, cases = named(_section())
    assert len({f for f, _ in tests}) >= 12 and len(tests) >= 40, tests  # the table was read
    missing = []
    for file, pattern in tests:
        path = ROOT / file if file.startswith(("tests/", "bench/")) else INGEST_TESTS / file
        if not path.exists():
            missing.append(f"{file} (no such file)")
        elif not fnmatch.filter(_tests_in(path), pattern if pattern != "*" else "test_*"):
            missing.append(f"{file}::{pattern}")
    with (INGEST_TESTS / "corpus" / "cases.csv").open(newline="", encoding="utf-8") as f:
        known = [r["case"] for r in csv.DictReader(f)]
    missing += [f"corpus {c}" for c in cases if not fnmatch.filter(known, c)]
    assert missing == []
    # the check itself can fail
    assert not fnmatch.filter(_tests_in(INGEST_TESTS / "test_safety_docs.py"), "test_no_such_*")
