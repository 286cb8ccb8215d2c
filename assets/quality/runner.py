"""Run quality checks: probe, Great Expectations, ``marts.quality_results``, Dagster results.

The shared library of the quality checks each domain keeps beside its assets
(``assets/<domain>/checks.py``: a list of :class:`~assets.quality.specs.QualityCheck` and
``CHECKS = asset_checks(...)``). Each check becomes one ``@dg.asset_check`` on its asset,
always registered with ``blocking=True``: Dagster then makes every asset downstream of the
checked asset wait for the check in the same run, and skips it only when the check fails with
severity ERROR. So:

- blocking quality checks fail with severity ERROR: a channel with an empty day stops the
  forecast before it is fitted on a hole;
- warning quality checks fail with severity WARN: recorded and shown, nothing stops; but the
  downstream steps still wait for them, so the serving snapshot published later in the run
  carries this run's ``marts.quality_results``, not the previous run's.

The GX Data Docs are built once per run (see :func:`_data_docs_due`), not after every check.
"""

# no `from __future__ import annotations`: Dagster reads the check's annotations at runtime
import dataclasses
import datetime as dt
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import dagster as dg
import duckdb

from assets.quality.gx_runner import build_data_docs, validate  # GX loads inside, when called
from assets.quality.results import RESULTS_TABLE, CheckReport, write_results
from assets.quality.specs import BLOCKING, QualityCheck, QualitySettings
from assets.resources import SettingsResource
from assets.settings import Settings
from assets.warehouse import WAREHOUSE_POOL, WarehouseResource, connect

# op name of every quality check's Dagster step -> its GX suite (filled by asset_checks), so a
# step can tell which quality checks its run still has to run
_SUITE_OF_OP: dict[str, str] = {}


def evaluate(
    check: QualityCheck, con: duckdb.DuckDBPyConnection, qs: QualitySettings, home: Path
) -> CheckReport:
    """Run one check's probe and its GX suite; nothing is written to the warehouse."""
    started = time.perf_counter()
    run_at = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    probe = check.probe(con, qs)
    if probe.unavailable or probe.not_applicable:
        return CheckReport(
            check, run_at, [], probe.context, probe.unavailable, time.perf_counter() - started,
            not_applicable=probe.not_applicable,
        )
    outcomes = validate(check.suite, probe, home=home, keep_runs=qs.keep_runs)
    return CheckReport(check, run_at, outcomes, probe.context, None, time.perf_counter() - started)


def run_check(
    check: QualityCheck, warehouse_path: str | Path, settings: Settings, run_id: str = "",
    data_docs_due: Callable[[duckdb.DuckDBPyConnection], bool] | None = None,
) -> CheckReport:
    """Evaluate a check on the warehouse, append its results to ``marts.quality_results`` and
    build the Data Docs when ``data_docs_due(con)`` says the run is done with its checks
    (default: when GX validated something, as one check on its own is a whole run).

    One read-write connection serves both: the check runs in the ``warehouse`` pool, so no
    other step holds the file meanwhile.
    """
    qs = QualitySettings.from_settings(settings)
    with connect(warehouse_path) as con:
        report = evaluate(check, con, qs, settings.home)
        write_results(con, report, run_id)
        due = data_docs_due(con) if data_docs_due else bool(report.outcomes)
    if not due:
        return report
    return dataclasses.replace(report, data_docs=build_data_docs(settings.home))


def to_check_result(report: CheckReport) -> dg.AssetCheckResult:
    """The Dagster result: passed or not, severity, and the numbers behind it (and the Data
    Docs index, on the check that built them for its run)."""
    check = report.check
    rows = [
        "| expectation | column | expected | observed | failing rows | ok |",
        "|---|---|---|---|---|---|",
        *[
            f"| {o.expectation.gx_type} | {o.expectation.column} | {o.expectation.expected} "
            f"| {o.observed} | {o.failing_rows} | {'✅' if o.success else '❌'} |"
            for o in report.outcomes
        ],
    ]
    first = report.failures[0] if report.failures else None
    metadata: dict = {
        "message": dg.MetadataValue.text(report.message),
        "severity": check.severity,
        "suite": check.suite,
        "expectations": dg.MetadataValue.md("\n".join(rows)),
        "failing_rows": sum(o.failing_rows for o in report.outcomes),
        "rows_checked": max((o.rows_checked for o in report.outcomes), default=0),
        "seconds": round(report.seconds, 3),
        **{f"context_{k}": str(v) for k, v in report.context.items()},
    }
    if report.not_applicable:
        metadata["not_applicable"] = dg.MetadataValue.text(report.not_applicable)
    if first is not None:
        metadata["observed_value"] = first.observed
        metadata["expected"] = first.expectation.expected
        metadata["sample"] = dg.MetadataValue.json(first.sample)
    if report.data_docs is not None:
        metadata["data_docs"] = dg.MetadataValue.path(str(report.data_docs))
    return dg.AssetCheckResult(
        passed=report.passed,
        severity=dg.AssetCheckSeverity.ERROR
        if check.severity == BLOCKING
        else dg.AssetCheckSeverity.WARN,
        description=report.message,
        metadata=metadata,
    )


def _asset_check(check: QualityCheck) -> dg.AssetChecksDefinition:
    @dg.asset_check(
        asset=dg.AssetKey(list(check.asset)),
        name=check.name,
        description=f"[{check.severity}] {check.description}",
        # always: downstream waits for every result; only severity ERROR stops it (see above)
        blocking=True,
        # reads the warehouse and appends to marts.quality_results: one writer at a time
        pool=WAREHOUSE_POOL,
        compute_kind="great_expectations",
    )
    def _quality_check(
        context: dg.AssetCheckExecutionContext,
        warehouse: WarehouseResource,
        shelfwise: SettingsResource,
    ) -> dg.AssetCheckResult:
        run_id = context.run.run_id
        report = run_check(check, warehouse.path, shelfwise.settings, run_id,
                           data_docs_due=lambda con: _data_docs_due(context, con, run_id))
        context.log.info(f"{check.suite}: {report.message} ({report.seconds:.2f} s)")
        if report.data_docs is not None:
            context.log.info(f"GX Data Docs built for this run: {report.data_docs}")
        return to_check_result(report)

    return _quality_check


def asset_checks(checks: Iterable[QualityCheck]) -> list[dg.AssetChecksDefinition]:
    """One Dagster asset check per quality check (a domain's ``CHECKS``)."""
    built = []
    for check in checks:
        definition = _asset_check(check)
        _SUITE_OF_OP[definition.node_def.name] = check.suite
        built.append(definition)
    return built


def _data_docs_due(
    context: dg.AssetCheckExecutionContext, con: duckdb.DuckDBPyConnection, run_id: str
) -> bool:
    """Whether this step builds the run's Data Docs: every quality check the run plans has
    written its results (this one was the last), or a blocking check of the run failed (the
    steps after it are skipped, and this is when a person opens the docs).

    A run whose remaining checks are skipped for another reason (an upstream asset failed)
    leaves its validations stored without pages; the next run's build renders them.
    """
    steps = context.run.step_keys_to_execute  # None: every step of the job
    selected = context.run.asset_check_selection  # None: every check of the job
    ops = set(context.op_execution_context.job_def.graph.node_names())
    planned = {
        suite for op, suite in _SUITE_OF_OP.items()
        if op in ops and (steps is None or op in steps)
    }
    if selected is not None:
        planned &= {".".join([*key.asset_key.path, key.name]) for key in selected}
    reported = con.execute(
        f"""SELECT list(DISTINCT suite) AS suites,
                   count(*) FILTER (WHERE severity = $blocking AND NOT success) AS stopping
            FROM {RESULTS_TABLE} WHERE run_id = $run_id""",
        {"blocking": BLOCKING, "run_id": run_id},
    ).df().to_dict(orient="records")[0]  # never empty: this check has just written its rows
    return planned <= set(reported["suites"]) or reported["stopping"] > 0
