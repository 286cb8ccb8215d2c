"""Validate a probe frame with Great Expectations, keep the result; build the Data Docs.

This is the one module that imports ``great_expectations`` (about 2 s), and only inside
:func:`validate`, so loading the Dagster definitions stays fast.

GX 1.x state lives under ``<home>/quality/``:

    gx/                GX stores: suites, validation definitions, checkpoints, validation results
    data_docs/         the Data Docs site (open index.html); offline it renders unstyled,
                       because GX loads its CSS and JavaScript from CDNs

The context is ephemeral (no great_expectations.yml to keep in sync) but its stores are on disk,
so every validation joins the history the Data Docs index lists. The history is pruned to the
last ``keep_runs`` runs per suite so that the index stays fast.

Validating does not touch the Data Docs: :func:`build_data_docs` renders every stored
validation that has no page yet and rebuilds the index, once per run (the index reads every
stored result, so rebuilding it after each check cost about a fifth of a whole demo run).
"""

from __future__ import annotations

import logging
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from assets.quality.specs import Expect, Outcome, Probe

# a failure's sample keeps this many rows; the sentence names at most SENTENCES of them
SAMPLE_ROWS = 20
SENTENCES = 5


def quality_dir(home: Path) -> Path:
    return Path(home) / "quality"


def data_docs_dir(home: Path) -> Path:
    return quality_dir(home) / "data_docs"


def _context(home: Path) -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import (
        DataContextConfig,
        FilesystemStoreBackendDefaults,
        ProgressBarsConfig,
    )

    root = quality_dir(home)
    config = DataContextConfig(
        store_backend_defaults=FilesystemStoreBackendDefaults(root_directory=str(root / "gx")),
        # GX draws progress bars on stderr by default: noise in Dagster's captured logs
        progress_bars=ProgressBarsConfig(globally=False),
        analytics_enabled=False,
        data_docs_sites={
            "shelfwise": {
                "class_name": "SiteBuilder",
                "show_how_to_buttons": False,
                "store_backend": {
                    "class_name": "TupleFilesystemStoreBackend",
                    "base_directory": str(data_docs_dir(home)),
                },
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            }
        },
    )
    return gx.get_context(project_config=config, mode="ephemeral")


def _prune_history(home: Path, suite: str, keep: int) -> None:
    """Keep the newest ``keep`` validation runs of ``suite`` in the store and the site.

    GX lays results out as ``<suite parts>/<run name>/<run time>/<batch>.json`` (the suite
    name split on dots); run times are ISO stamps, so name order is time order.
    """
    parts = suite.split(".")
    for base in (
        quality_dir(home) / "gx" / "uncommitted" / "validations",
        data_docs_dir(home) / "validations",
    ):
        suite_dir = base.joinpath(*parts)
        if not suite_dir.is_dir():
            continue
        for run_name_dir in suite_dir.iterdir():
            if not run_name_dir.is_dir():
                continue
            runs = sorted(p for p in run_name_dir.iterdir() if p.is_dir())
            for old in runs[: max(0, len(runs) - keep)]:
                shutil.rmtree(old, ignore_errors=True)


def validate(suite_name: str, probe: Probe, *, home: Path, keep_runs: int = 30) -> list[Outcome]:
    """Run the probe's expectations on its frame as GX suite ``suite_name``.

    Returns one :class:`Outcome` per expectation, in the probe's order. The validation result
    is stored under ``<home>/quality/gx``; :func:`build_data_docs` renders it.
    """
    import great_expectations as gx

    # GX logs every store write at INFO; the check's own metadata says what matters
    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    _prune_history(home, suite_name, max(keep_runs - 1, 0))
    context = _context(home)
    batch = (
        context.data_sources.add_or_update_pandas("shelfwise")
        .add_dataframe_asset(suite_name)
        .add_batch_definition_whole_dataframe("whole_frame")
    )
    expectations = [
        getattr(gx.expectations, e.gx_type)(**e.kwargs, meta={"shelfwise_index": i, "what": e.what})
        for i, e in enumerate(probe.expectations)
    ]
    suite = context.suites.add_or_update(
        gx.ExpectationSuite(name=suite_name, expectations=expectations)
    )
    definition = context.validation_definitions.add_or_update(
        gx.ValidationDefinition(name=suite_name, data=batch, suite=suite)
    )
    checkpoint = context.checkpoints.add_or_update(
        gx.Checkpoint(
            name=suite_name,
            validation_definitions=[definition],
            actions=[],  # no Data Docs per check: build_data_docs renders a run's pages at once
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": SAMPLE_ROWS},
        )
    )
    frame = probe.frame.reset_index(drop=True)
    run = checkpoint.run(batch_parameters={"dataframe": frame})
    (suite_result,) = run.run_results.values()

    by_index = {r.expectation_config.meta["shelfwise_index"]: r for r in suite_result.results}
    return [_outcome(e, by_index[i], frame) for i, e in enumerate(probe.expectations)]


def build_data_docs(home: Path) -> Path:
    """Render every stored validation (and its suite) without a Data Docs page; rebuild the index.

    Returns the index page. Pages already rendered are left alone, so the cost is the new
    pages plus one index, however long the kept history is.
    """
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
    )

    logging.getLogger("great_expectations").setLevel(logging.WARNING)
    context = _context(home)
    pages = data_docs_dir(home) / "validations"
    new = [
        key for key in context.validation_results_store.list_keys()
        if not pages.joinpath(*_page_parts(key.to_tuple())).exists()
    ]
    index = data_docs_dir(home) / "index.html"
    # nothing new: the index is current (and GX reads an empty list as "render everything")
    if not new and index.exists():
        return index
    suites = {key.expectation_suite_identifier.name for key in new}
    context.build_data_docs(
        resource_identifiers=[*new, *(ExpectationSuiteIdentifier(name=s) for s in sorted(suites))]
    )
    return index


def _page_parts(key: tuple[str, ...]) -> tuple[str, ...]:
    """Where the site keeps a validation's page: its store key, the last part + ``.html``."""
    return (*key[:-1], f"{key[-1]}.html")


def _outcome(expect: Expect, result: Any, frame: pd.DataFrame) -> Outcome:
    """Numbers and words from one GX expectation result."""
    if result.exception_info and result.exception_info.get("raised_exception"):
        message = f"the expectation could not run: {result.exception_info.get('exception_message')}"
        return Outcome(expect, False, len(frame), 0, "error", [], message)
    r = result.result or {}
    rows_checked = int(r.get("element_count", len(frame)) or 0)
    failing = int(r.get("unexpected_count", 0) or 0)
    index = list(r.get("partial_unexpected_index_list") or [])
    sample_rows = frame.loc[[i for i in index if i in frame.index]].head(SAMPLE_ROWS)
    sample = [_plain(row) for row in sample_rows.to_dict(orient="records")]
    values = r.get("partial_unexpected_list") or []
    shown = ", ".join(_short(v) for v in values[:5])
    observed = (
        f"{failing} of {rows_checked} rows fail" + (f" (values: {shown})" if shown else "")
        if failing
        else f"all {rows_checked} rows pass"
    )
    if result.success:
        message = f"passed: {rows_checked} rows checked"
    else:
        sentences = [expect.explain(row) if expect.explain else _row_text(row) for row in sample]
        sentences = list(dict.fromkeys(sentences))[:SENTENCES]
        more = failing - len(sentences)
        message = "; ".join(sentences) + (f"; and {more} more" if more > 0 else "")
        if not sentences:
            message = f"{expect.what}: {observed}"
    return Outcome(expect, bool(result.success), rows_checked, failing, observed, sample, message)


def _plain(row: dict[str, Any]) -> dict[str, Any]:
    """A frame row with JSON-friendly values (numpy scalars, timestamps, NaN → None)."""
    out = {}
    for key, value in row.items():
        if isinstance(value, np.generic):
            value = value.item()
        if isinstance(value, pd.Timestamp):
            value = value.isoformat()
        if isinstance(value, float) and np.isnan(value):
            value = None
        if value is pd.NaT:
            value = None
        out[key] = value
    return out


def _short(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)[:40]


def _row_text(row: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_short(v)}" for k, v in row.items())
