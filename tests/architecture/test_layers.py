"""The layers of the house, checked on the source of every module (see import_rules.py).

Arrows point one way: ``pipelines → assets → forecasting``. ``forecasting/`` is a plain library
(no Dagster, no DuckDB, nothing of the layers above it); ``assets/`` never reaches up into
``pipelines/``; the dashboards read the serving snapshot only: nothing of ``assets/`` or
``pipelines/`` and never the warehouse file, which a running pipeline step holds locked.
"""

from __future__ import annotations

from import_rules import (
    ROOT,
    forbidden_imports,
    modules_loaded_by,
    package_modules,
    warehouse_references,
)

LIBRARY_FORBIDDEN = ("dagster", "duckdb")


def _listed(imports) -> str:
    return "\n".join(i.where() for i in imports)


def test_forecasting_imports_neither_dagster_nor_duckdb_anywhere_in_its_source():
    found = forbidden_imports("forecasting", LIBRARY_FORBIDDEN)
    assert not found, _listed(found)


def test_importing_every_forecasting_module_loads_neither_dagster_nor_duckdb():
    # every module, not the package: forecasting/__init__.py imports its modules lazily, so
    # `import forecasting` alone loads none of them and proves nothing
    modules = sorted(package_modules("forecasting"))
    assert len(modules) >= 14  # the walk found the library, not an empty folder
    loaded = modules_loaded_by(modules, LIBRARY_FORBIDDEN)
    assert loaded == {}, f"modules whose import loads Dagster or DuckDB: {loaded}"


def test_forecasting_imports_no_outer_layer():
    found = forbidden_imports("forecasting", ("assets", "pipelines", "dashboards"))
    assert not found, _listed(found)


def test_assets_import_neither_pipelines_nor_dashboards():
    found = forbidden_imports("assets", ("pipelines", "dashboards"))
    assert not found, _listed(found)


# Named allowance (issue #18, build item 6): the decision store is standard library only
# (sqlite3, json) and is the one documented exception to "dashboards never import assets/":
# a planner decides on the replenishment page while a pipeline run holds the warehouse.
# Issue #18 may move the store out of assets/; then this allowance goes.
DASHBOARD_ALLOWED = {"assets.decisions.store"}


# Named allowance (issue #17, build item 4): "send purchase orders from the page, the same
# code path as `shelfwise restock`". Sending is a pipeline run started by the planner's click,
# so dashboards.outbox imports the restock command inside its send function only (never when
# a page loads: test_the_dashboards_shared_modules_load_neither_dagster_nor_the_warehouse).
SEND_FROM_PAGE = {("dashboards.outbox", "assets.settings"),
                  ("dashboards.outbox", "pipelines.commands.restock")}


def test_dashboards_import_nothing_of_assets_or_pipelines_but_the_decision_store():
    found = [i for i in forbidden_imports("dashboards", ("assets", "pipelines"),
                                          allowed=DASHBOARD_ALLOWED)
             if not (i.in_function and (i.importer, i.target) in SEND_FROM_PAGE)]
    assert not found, _listed(found)


def test_dashboards_never_name_the_warehouse_file():
    found = warehouse_references("dashboards")
    assert not found, "\n".join(found)


def test_only_the_snapshot_reader_opens_duckdb_in_the_dashboards():
    # dashboards/data.py attaches <home>/serving/serving.duckdb read-only; any other module
    # that imports DuckDB could open another file (the warehouse) behind its back
    importers = {i.importer for i in forbidden_imports("dashboards", ("duckdb",))}
    assert importers <= {"dashboards.data"}, importers


def test_the_dashboards_shared_modules_load_neither_dagster_nor_the_warehouse():
    # the modules pages import (not app.py nor views/: those are Streamlit scripts that run
    # on import); the decision store's package must not pull Dagster in behind the allowance
    shared = sorted(m for m in package_modules("dashboards")
                    if m not in ("dashboards.app",) and not m.startswith("dashboards.views"))
    assert "dashboards.decisions" in shared and "dashboards.data" in shared
    watched = ("dagster", "assets.warehouse", "assets.settings", "pipelines")
    assert modules_loaded_by(shared, watched, ROOT) == {}
