"""The serving snapshot waits for an explicit list: the marts each domain exports.

Each domain package declares ``SERVED_MARTS``; the one registry of domains
(``pipelines/domains.py``) hands their union to the publish step. Nothing scans packages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import dagster as dg

from pipelines.domains import DOMAINS, served_marts, serving_defs

ROOT = Path(__file__).resolve().parents[2]


def _marts(defs: dg.Definitions) -> set[str]:
    keys = {k for a in defs.assets or [] for k in getattr(a, "keys", None) or [a.key]}
    return {k.path[1] for k in keys if k.path[0] == "marts"}


def test_each_domain_declares_exactly_the_marts_it_builds():
    for domain in DOMAINS:
        assert set(domain.SERVED_MARTS) == _marts(domain.defs), domain.__name__
        assert len(set(domain.SERVED_MARTS)) == len(domain.SERVED_MARTS), domain.__name__


def test_the_snapshot_waits_for_every_served_mart_and_what_it_copies_from_core():
    (publish,) = serving_defs.assets
    deps = set(publish.asset_deps[dg.AssetKey("publish_serving_snapshot")])
    assert {k for k in deps if k.path[0] == "marts"} == set(served_marts())
    assert len(served_marts()) >= 50  # the union of the domains, not an empty list
    assert dg.AssetKey(["quarantine", "rows"]) in deps
    assert dg.AssetKey(["core", "order_lines"]) in deps


def test_serving_imports_no_other_domain():
    """Serving gets the list handed in; it never imports (or scans) the domains it waits for."""
    allowed = {"assets.resources", "assets.serving", "assets.warehouse"}
    for path in sorted((ROOT / "assets" / "serving").glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            for name in names:
                assert name.split(".")[0] != "importlib" and name != "pkgutil", path
                if name.startswith("assets"):
                    assert any(name == a or name.startswith(a + ".") for a in allowed), (path, name)
