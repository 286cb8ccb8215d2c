"""No hidden wiring: domains are listed in one registry, never discovered by importing names.

``pipelines/domains.py`` imports every domain by name; quality checks live in each domain's
``checks.py`` and are registered by its ``__init__``; serving gets the marts handed in. No
module of ``assets/`` or ``pipelines/`` imports ``importlib`` or ``pkgutil`` to find code,
except the named allowances below, which are not domain discovery and belong to other work.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

def _importers(folder: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / folder).rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            hits = {n for n in names if n.split(".")[0] in ("importlib", "pkgutil")}
            if hits:
                found.setdefault(str(path.relative_to(ROOT)), set()).update(hits)
    return found


def test_no_module_discovers_code_by_name():
    # the domains, the commands, the adapters and the generator's writers are all named in
    # plain imports (pipelines/domains.py, pipelines/cli.py, assets/ingest/adapters/__init__.py,
    # pipelines/generate/write.py): not one module is found by its name at run time
    found = {**_importers("assets"), **_importers("pipelines")}
    assert found == {}, found


def test_the_registry_imports_every_domain_by_name():
    from pipelines.domains import DOMAINS

    names = {d.__name__ for d in DOMAINS}
    assert {"assets.ingest", "assets.inventory", "assets.replenishment", "assets.kpis"} <= names
    # the quality package is a library now, not a domain; serving comes after the domains
    assert "assets.quality" not in names and "assets.serving" not in names


def test_each_quality_check_module_sits_beside_the_assets_it_checks():
    from assets.ingest.checks import QUALITY_CHECKS as ingest
    from assets.inventory.checks import QUALITY_CHECKS as inventory
    from assets.replenishment.checks import QUALITY_CHECKS as replenishment

    assert {c.asset[0] for c in ingest} == {"core"}
    assert {c.asset for c in inventory} == {
        ("marts", "ats_by_sku_location"), ("marts", "ats_by_sku_channel"),
        ("marts", "reconciliation"),
    }
    assert {c.asset for c in replenishment} == {("marts", "replenishment_suggestions")}
    # the quality package keeps only the shared runner, vocabulary, GX and results modules
    left = {p.name for p in (ROOT / "assets" / "quality").glob("*.py")}
    assert left == {"__init__.py", "specs.py", "gx_runner.py", "results.py", "runner.py"}
