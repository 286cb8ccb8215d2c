"""The architecture checks can fail: each one, run on a small synthetic package in tmp_path that
breaks its rule, reports the violation (and reports nothing on the same package without it)."""

from __future__ import annotations

import textwrap
from pathlib import Path

from import_rules import (
    forbidden_imports,
    import_cycles,
    modules_loaded_by,
    warehouse_references,
)


def write_package(root: Path, files: dict[str, str]) -> Path:
    """``files``: path below ``root`` → source; each folder on the way gets an ``__init__.py``."""
    for rel, source in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        for folder in path.relative_to(root).parents:
            if folder != Path("."):
                (root / folder / "__init__.py").touch()
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    return root


def test_a_forbidden_import_is_found_wherever_it_stands(tmp_path):
    write_package(tmp_path, {
        "lib/top.py": "import duckdb\n",
        "lib/lazy.py": "def f():\n    from dagster import asset\n    return asset\n",
        "lib/sub/deep.py": "import os\nif os.environ.get('X'):\n    import dagster.components\n",
        "lib/dynamic.py": "import importlib\nMOD = importlib.import_module('duckdb')\n",
        "lib/clean.py": "import json\nimport polars_like_name_duckdbx\n",
    })
    found = {(i.importer, i.target, i.in_function)
             for i in forbidden_imports("lib", ["dagster", "duckdb"], tmp_path)}
    assert found == {
        ("lib.top", "duckdb", False),
        ("lib.lazy", "dagster", True),
        ("lib.sub.deep", "dagster.components", False),
        ("lib.dynamic", "duckdb", False),
    }


def test_imports_of_an_outer_layer_are_found_relative_ones_too(tmp_path):
    write_package(tmp_path, {
        "outer/jobs.py": "X = 1\n",
        "inner/a.py": "from outer.jobs import X\n",
        "inner/b.py": "def f():\n    from outer import jobs\n",
        "inner/c.py": "from . import a\nfrom .a import X\n",
    })
    found = {(i.importer, i.target) for i in forbidden_imports("inner", ["outer"], tmp_path)}
    assert found == {("inner.a", "outer.jobs"), ("inner.b", "outer.jobs")}


def test_an_allowed_module_is_let_through_and_nothing_else(tmp_path):
    write_package(tmp_path, {
        "inner/store.py": "X = 1\n",
        "inner/other.py": "Y = 1\n",
        "pages/a.py": "from inner.store import X\n",
        "pages/b.py": "from inner.other import Y\n",
    })
    found = forbidden_imports("pages", ["inner"], tmp_path, allowed={"inner.store"})
    assert [(i.importer, i.target) for i in found] == [("pages.b", "inner.other")]


def test_a_cycle_hidden_in_a_function_level_import_is_found(tmp_path):
    write_package(tmp_path, {
        "lib/engine.py": "def run():\n    from lib.seasonality import ratio\n    return ratio\n",
        "lib/seasonality.py": "from lib.engine import run\n\ndef ratio():\n    return run\n",
        "lib/history.py": "from lib import engine\n",
    })
    assert import_cycles("lib", tmp_path) == [["lib.engine", "lib.seasonality"]]
    (tmp_path / "lib/seasonality.py").write_text("def ratio():\n    return 1\n")
    assert import_cycles("lib", tmp_path) == []


def test_a_longer_cycle_and_a_self_import_are_found(tmp_path):
    write_package(tmp_path, {
        "lib/a.py": "import lib.b\n",
        "lib/b.py": "from lib import c\n",
        "lib/c.py": "from .a import x\n",
        "lib/d.py": "def f():\n    import lib.d\n",
    })
    assert import_cycles("lib", tmp_path) == [["lib.a", "lib.b", "lib.c"], ["lib.d"]]


def test_the_runtime_check_names_the_module_that_loads_a_watched_package(tmp_path):
    # the package imports its modules lazily, as forecasting/__init__.py does: importing the
    # package alone loads nothing, which is why the check imports every module
    write_package(tmp_path, {
        "heavy/__init__.py": "",
        "lib/__init__.py": "def __getattr__(name):\n    import importlib\n"
                           "    return importlib.import_module('lib.b')\n",
        "lib/a.py": "import json\n",
        "lib/b.py": "import heavy\n",
    })
    assert modules_loaded_by(["lib"], ["heavy"], tmp_path) == {}
    assert modules_loaded_by(["lib", "lib.a", "lib.b"], ["heavy", "json_like"], tmp_path) == {
        "lib.b": ["heavy"]}


def test_naming_the_warehouse_file_is_found_prose_and_the_serving_file_are_not(tmp_path):
    write_package(tmp_path, {
        "pages/ok.py": '"""Never opens shelfwise.duckdb."""\n'
                       'P = "serving/serving.duckdb"\nMSG = "No orders in the warehouse yet."\n',
        "pages/by_helper.py": "def f(settings):\n    return settings.warehouse_path\n",
        "pages/by_name.py": "from pathlib import Path\nP = Path('data') / 'warehouse' / 'x'\n",
        "pages/by_file.py": "P = 'data/warehouse/shelfwise.duckdb'\n",
    })
    found = sorted(line.split(" ", 1)[0] for line in warehouse_references("pages", tmp_path))
    assert found == [str(tmp_path / "pages/by_file.py") + ":1",
                     str(tmp_path / "pages/by_helper.py") + ":2",
                     str(tmp_path / "pages/by_name.py") + ":2"]
