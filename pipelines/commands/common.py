"""What several commands share: running a job, opening the warehouse read-only, who decides,
and each suggestion's status in a decision store.

Public on purpose: a command module imports these, never another command module's private
helpers. Dagster, DuckDB and Polars load inside the functions that need them, so importing
this module (every ``shelfwise --help`` does) stays cheap.
"""

from __future__ import annotations

import getpass
import signal
from pathlib import Path

import click

from assets.settings import Settings, load_settings
from pipelines.commands.files import write_export

# --------------------------------------------------------------------------- running a job


def run_job(settings, job_name: str, *, raise_on_error: bool = True, log_level: str = "WARNING",
            ops: dict | None = None):
    """Execute a job of the code location in this process on the home's Dagster instance.

    ``ops``: run config per op, e.g. ``{"ingest_inbox": {"config": {"rehash": True}}}``.

    The run is recorded in the instance, so it shows in the Dagster UI (`shelfwise ui`) with
    its full logs; the terminal gets only warnings and errors (``log_level``).

    Before the run starts, runs whose process died (kill -9, out of memory) are marked failed
    and their "warehouse" pool slots freed, and what a killed run left behind is removed
    (pipelines/runs.py). While it runs, SIGINT/SIGTERM stop it within seconds (children
    included), and a step waiting longer than ``pool_wait_seconds`` for a slot held by another
    live run fails the command with a message naming that run (click.ClickException).
    """
    from dagster._core.utils import make_new_run_id

    from pipelines.definitions import build_definitions
    from pipelines.instance import get_instance
    from pipelines.runs import RunGuard, free_dead_runs, live_runs, remove_leftovers, run_tags

    instance = get_instance(settings)
    for run_id in free_dead_runs(instance):
        click.echo(f"note: run {run_id} had died without ending; marked failed, its warehouse "
                   "slot freed", err=True)
    if not live_runs(instance):
        for path in remove_leftovers(settings):
            click.echo(f"note: removed {path}, left behind by a killed run", err=True)
    defs = build_definitions(str(settings.home))
    job = defs.resolve_job_def(job_name)
    run_config = {"loggers": {"console": {"config": {"log_level": log_level}}}}
    if ops:
        run_config["ops"] = ops
    run_id = make_new_run_id()
    guard = RunGuard(instance, run_id, wait_seconds=settings.pool_wait_seconds)
    try:
        with guard:
            result = job.execute_in_process(
                instance=instance, raise_on_error=raise_on_error, run_config=run_config,
                run_id=run_id, tags=run_tags(),
            )
    except BaseException:
        if not (guard.blocked_message or guard.signals):
            raise
    if guard.blocked_message:  # the run gave up waiting for the warehouse pool
        _fail_run(instance, run_id, guard.blocked_message)
        raise click.ClickException(guard.blocked_message)
    if guard.signals:  # stopped by SIGINT/SIGTERM: the command stops too
        _fail_run(instance, run_id, f"stopped by {signal.Signals(guard.signals[-1]).name}")
        raise SystemExit(128 + guard.signals[-1])
    return result


def _fail_run(instance, run_id: str, why: str | None) -> None:
    """Mark the run failed (if Dagster did not) and give back any slot it holds or waits for."""
    run = instance.get_run_by_id(run_id)
    if run is not None and not run.is_finished:
        instance.report_run_failed(run, message=f"shelfwise: {why}")
    instance.event_log_storage.free_concurrency_slots_for_run(run_id)


# --------------------------------------------------------------------------- reading the warehouse


def open_read_only(settings: Settings):
    """The home's warehouse opened read-only (a context manager), waiting up to 10 s for a
    running step's lock; ``click.ClickException`` when there is no warehouse yet."""
    from assets.warehouse import connect

    if not Path(settings.warehouse_path).exists():
        raise click.ClickException(
            f"no warehouse at {settings.warehouse_path}: run `shelfwise ingest` first")
    return connect(settings.warehouse_path, read_only=True, wait_seconds=10)


def require_tables(con, *tables: str, fix: str) -> None:
    """``click.ClickException`` naming the ``schema.table``\\ s not built yet and ``fix``."""
    from pipelines.queries import present_tables

    present = present_tables(con)
    missing = [t for t in tables if t not in present]
    if missing:
        raise click.ClickException(f"{', '.join(missing)} not built yet: {fix}")


def read_only_after(ctx: click.Context, job: str | None):
    """``(settings, the warehouse opened read-only)``, after running ``job`` when given (a
    command's --refresh)."""
    settings = load_settings(ctx.obj["home"])
    if job:
        if not run_job(settings, job, raise_on_error=False).success:
            raise click.ClickException(f"the {job} run failed: see `shelfwise ui` for its logs")
    return settings, open_read_only(settings)


def check_known(con, *, sku: str | None, supplier: str | None, location: str | None) -> None:
    """Refuse a filter value that master data does not know (exit 1, naming it): an unknown
    SKU is a typo, not "nothing needs ordering". Tables missing from core are not checked."""
    from pipelines.queries import core_relations, is_known_in_master

    checks = [("SKU", sku, "core.products", "sku"),
              ("supplier", supplier, "core.suppliers", "supplier_id"),
              ("location", location, "core.locations", "location_id")]
    present = core_relations(con)
    for what, value, table, column in checks:
        if value is None or table not in present:
            continue
        if not is_known_in_master(con, table, column, value):
            raise click.ClickException(
                f"unknown {what} {value!r}: not in {table} (check the spelling; "
                f"`shelfwise status` lists the tables)")


def rows_by_id(settings: Settings, table: str, id_column: str, read, ids: list[str], *,
               need_any: bool = False):
    """``(rows of ``read(con)`` by ``id_column``, where they came from)``: the serving
    snapshot first (never locked), the warehouse read-only when the snapshot lacks ``table``
    or one of ``ids`` (or has no row at all with ``need_any``); ``({}, None)`` when neither
    can be read. ``read``: a :mod:`pipelines.queries` function of a connection reading
    ``table`` (schema.name)."""
    import duckdb

    from assets.warehouse import connect
    from pipelines.queries import present_tables

    sources = [("serving snapshot", settings.serving_path, 0.0),
               ("warehouse", settings.warehouse_path, 5.0)]
    opened = None
    for source, path, wait in sources:
        if not Path(path).exists():
            continue
        try:
            with connect(path, read_only=True, wait_seconds=wait) as con:
                if table not in present_tables(con):
                    continue
                opened = opened or source
                frame = read(con)
        except duckdb.IOException:  # the warehouse is busy: the snapshot had to do
            continue
        rows = {r[id_column]: r for r in frame.iter_rows(named=True)}
        if set(ids) <= set(rows) and (not need_any or rows):
            return rows, source
    return {}, opened


# --------------------------------------------------------------------------- decisions


def login() -> str | None:
    """The login name of whoever runs the command (None in a bare container)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no login name in a bare container
        return None


user_option = click.option("--user",
                           help="who decides (in the audit trail)  [default: your login name]")
note_option = click.option("--note", help="why (in the audit trail)")


def with_decision_status(frame, home, show_all: bool, store=None,
                         id_column: str = "suggestion_id"):
    """``(frame with status and decided_units from the decision store, sent lines hidden)``:
    each suggestion's current decision (``proposed`` without one); lines already sent are
    dropped unless ``show_all``. ``store``: another decision store (the transfers'), whose
    ids are in ``id_column`` of ``frame``."""
    import polars as pl

    from assets.decisions.store import DecisionStore

    store = store or DecisionStore(home)
    decided = pl.DataFrame(
        [{id_column: r["suggestion_id"], "status": r["status"],
          "decided_units": r["quantity"]} for r in (store.latest() if store.path.exists() else [])],
        schema={id_column: pl.String, "status": pl.String, "decided_units": pl.Int64})
    frame = (frame.join(decided, on=id_column, how="left", maintain_order="left")
             .with_columns(pl.col("status").fill_null("proposed")))
    sent = pl.col("status") == "sent"
    hidden = 0 if show_all else frame.filter(sent).height
    return (frame if show_all else frame.filter(~sent)), hidden


def listing_to_show(frame, hidden: int, *, nothing: str, filtered: bool, sent_what: str,
                    out: Path | None, limit: int | None):
    """The rows of a decision listing to print (``frame``, the export written to ``out``
    first), or None after saying why nothing matches: ``nothing`` plus whether filters were
    given and how many ``sent_what`` the listing hid."""
    if frame.is_empty():
        click.echo(nothing + (" for these filters" if filtered else "")
                   + (f" ({hidden} sent {sent_what} hidden, --all shows them)" if hidden else ""))
        return None
    if out:
        write_export(frame, out)
    return frame.head(limit) if limit else frame
