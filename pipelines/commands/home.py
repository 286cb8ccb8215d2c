"""Your own data, end to end: ``init`` a home, ``check`` what it holds, ``run`` everything on it.

docs/your-data.md is the tutorial these commands follow.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import sys
import time
import zoneinfo
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import click

from assets.settings import Settings, load_settings

CURRENCY = re.compile(r"^[A-Z]{3}$")
ORDERS = "orders"


# --------------------------------------------------------------------------- init


def check_currency(value: str) -> str:
    """An ISO 4217 code, upper-cased; ``click.BadParameter`` otherwise."""
    code = (value or "").strip().upper()
    if not CURRENCY.match(code):
        raise click.BadParameter(f"{value!r} is not an ISO 4217 currency code (3 letters, e.g. "
                                 "EUR, USD, GBP, BRL)", param_hint="--base-currency")
    return code


def check_timezone(value: str) -> str:
    """A tz database name (``Europe/Berlin``); ``click.BadParameter`` otherwise."""
    name = (value or "").strip()
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise click.BadParameter(f"{value!r} is not a tz database time zone (e.g. "
                                 "Europe/Berlin, America/Sao_Paulo, UTC)",
                                 param_hint="--timezone") from exc
    return name


def stdin_is_terminal() -> bool:
    return sys.stdin.isatty()


def _ask(value: str | None, option: str, question: str, check) -> str:
    """The option's value, else asked at a terminal; never a silent default."""
    if value is not None:
        return check(value)
    if not stdin_is_terminal():
        raise click.UsageError(
            f"{option} is required (no default: it decides how every amount and every day is "
            f"counted), e.g. `shelfwise init --base-currency EUR --timezone Europe/Berlin`")
    return click.prompt(question, value_proc=check)


def inbox_folders() -> dict[str, list]:
    """Inbox folder -> the adapters that read files there, from the adapter list itself."""
    from assets.ingest.adapters import ADAPTERS

    folders: dict[str, list] = defaultdict(list)
    for adapter in ADAPTERS:
        folders[adapter.folder].append(adapter)
    return dict(folders)


def _columns_text(adapter) -> str:
    """The header a generic file needs and may have (the adapter's own declaration)."""
    from assets.model import ENTITIES

    req = list(adapter.required_columns)
    opt = [c for c in ENTITIES[adapter.entity].column_names if c not in req]
    return f"required: {', '.join(req)}" + (f"; optional: {', '.join(opt)}" if opt else "")


def folder_readme(folder: str, adapters: list) -> str:
    """The README of one inbox folder: what goes there and which formats are recognised."""
    from assets.features import FEATURES
    from assets.model import ENTITIES

    entity = adapters[0].entity
    used_by = [f.name for f in FEATURES if entity in f.needs]
    lines = [f"# inbox/{folder}/", "", ENTITIES[entity].doc, ""]
    if used_by:
        lines += ["Switches on: " + "; ".join(used_by) + ".", ""]
    if folder == ORDERS:
        lines += [
            "Put each sales channel's order exports in a sub-folder named after the channel, "
            "e.g. `inbox/orders/shopify/`, `inbox/orders/amazon_de/`: the folder name is the "
            "channel id. Drop each new export beside the earlier ones; a re-exported file with "
            "the same name replaces its earlier version.",
            "",
            "Recognised formats (file name, then header):",
            "",
        ]
    else:
        lines += ["Files here (CSV or Parquet, one header row):", ""]
    for a in adapters:
        globs = ", ".join(f"`{g}`" for g in a.file_globs)
        doc = a.doc or a.name
        lines.append(f"- **{a.name}**: {doc} File names: {globs}.")
        if a.name.startswith("generic_"):
            lines.append(f"  Columns ({_columns_text(a)}).")
    lines += ["", "Formats and column meanings: docs/formats.md, docs/ingestion.md; the "
              "tutorial: docs/your-data.md."]
    return "\n".join(lines) + "\n"


def settings_toml(base_currency: str, timezone: str, today: dt.date) -> str:
    """A commented shelfwise.toml for a new home."""
    return f'''# shelfwise settings for this home, written by `shelfwise init` on {today}.
# Every other key has a default; each domain's doc (docs/*.md) lists its keys.

# The currency every amount is converted to for KPIs, stock values and reorder values
# (ISO 4217). Orders in another currency need daily FX rates in inbox/fx_rates/
# (rate_date, currency, rate_to_base); without a rate their base amount stays empty and
# `shelfwise check` / `shelfwise run` say how much revenue is not converted.
base_currency = "{base_currency}"

# Salt of the customer key hash (customer identity itself is never stored). Keep it
# secret and never change it: the same customer must get the same key on every run.
pii_salt = "{secrets.token_hex(16)}"

[kpis]
# The reporting time zone: every daily, weekly and monthly KPI counts local days in this
# zone; timestamps stay UTC in the warehouse.
timezone = "{timezone}"

[schedules]
# When the daily run (the same as `shelfwise run`) starts, in local time.
daily_run_cron = "0 5 * * *"
daily_run_timezone = "{timezone}"
'''


@click.command()
@click.option("--base-currency", help="ISO 4217 code every amount is converted to (e.g. EUR)")
@click.option("--timezone", help="reporting time zone, a tz database name (e.g. Europe/Berlin)")
@click.option("--force", is_flag=True, help="overwrite an existing shelfwise.toml")
@click.pass_context
def init(ctx, base_currency, timezone, force):
    """Create a shelfwise home for your own data: inbox folders, each with a README saying
    what goes there, and a commented shelfwise.toml.

    Both settings are asked for at a terminal when not given; there is no default currency.

    \b
    Example:
      shelfwise --home ~/shop init --base-currency EUR --timezone Europe/Berlin
    """
    home = Path(ctx.obj["home"])
    toml = home / "shelfwise.toml"
    if toml.exists() and not force:
        raise click.ClickException(f"{toml} exists: this home is set up already "
                                   "(--force writes a new shelfwise.toml over it)")
    base_currency = _ask(base_currency, "--base-currency",
                         "Base currency (ISO 4217, e.g. EUR, USD, GBP)", check_currency)
    timezone = _ask(timezone, "--timezone",
                    "Reporting time zone (e.g. Europe/Berlin, America/New_York)", check_timezone)
    home.mkdir(parents=True, exist_ok=True)
    inbox = load_settings(home).inbox
    rows = []
    for folder, adapters in inbox_folders().items():
        target = inbox / folder
        target.mkdir(parents=True, exist_ok=True)
        (target / "README.md").write_text(folder_readme(folder, adapters), encoding="utf-8")
        rows.append((f"inbox/{folder}/", ", ".join(a.name for a in adapters)))
    toml.write_text(settings_toml(base_currency, timezone, dt.date.today()), encoding="utf-8")
    from pipelines.summary import format_table

    click.echo(f"created {home}: base currency {base_currency}, reporting time zone {timezone}\n")
    click.echo("What goes where (each folder's README.md says more):")
    click.echo(format_table(["folder", "formats recognised"], rows))
    h = f"shelfwise --home {home}"
    click.echo(
        "\nStart with your order exports: one sub-folder per channel, e.g.\n"
        f"  {inbox}/orders/shopify/orders_export_1.csv\n"
        "Stock snapshots, products and suppliers switch on ATS, reconciliation and reorder "
        "suggestions.\n\nnext:\n"
        f"  {h} check        which file goes to which format, what each feature still needs\n"
        f"  {h} run          ingest and build everything the files allow\n"
        f"  {h} dashboards   the dashboards on http://127.0.0.1:8501\n"
        "The tutorial: docs/your-data.md")


# --------------------------------------------------------------------------- run


@dataclass
class RunOutcome:
    success: bool
    problems: dict
    seconds: float

    @property
    def reason(self) -> str:
        """The first thing that went wrong, in words (for the exit message)."""
        steps = self.problems["failed_steps"]
        checks = [c for c in self.problems["failed_checks"] if "[ERROR]" in c[1]]
        if checks:
            return f"check {checks[0][0]} failed: {checks[0][1]}"
        if steps:
            return f"step {steps[0][0]} failed: {steps[0][1]}"
        if files := self.problems.get("files_not_landed"):
            return files[0][0]
        return "the run failed"


def home_notes(settings: Settings) -> str:
    """Features skipped for lack of which entity, derived products (unconverted money is in
    the warehouse summary, :func:`pipelines.summary.warehouse_summary`)."""
    from assets.features import DERIVED_PRODUCTS_SOURCE, feature_status, present_entities, \
        skipped_summary
    from assets.ingest.derived import HOW_TO_SUPPLY
    from assets.warehouse import connect
    from pipelines.queries import derived_product_count

    if not settings.warehouse_path.exists():
        return ""
    with connect(settings.warehouse_path, read_only=True) as con:
        present = present_entities(con)
        derived = derived_product_count(con, DERIVED_PRODUCTS_SOURCE)
    lines = []
    statuses = feature_status(present)
    skipped = skipped_summary(statuses)
    if skipped:
        working = [s.feature.name for s in statuses if s.available]
        lines += ["Features skipped for lack of data"] + [f"  {s}" for s in skipped]
        lines.append(f"  working: {'; '.join(working) if working else 'none'}")
    if derived:
        lines.append(f"Products: {derived:,} SKU(s) sold without product master data got a row "
                     f"derived from the order lines (name = SKU, case pack 1, MOQ 1): "
                     f"{HOW_TO_SUPPLY}")
    return "\n".join(lines)


def run_home(settings: Settings, echo=click.echo) -> RunOutcome:
    """The main job on a home: ingest, every asset whose inputs exist, the serving snapshot
    (job ``shelfwise_all``, the same selection as the daily schedule); prints the summary."""
    from pipelines.commands.common import run_job
    from pipelines.summary import (
        failed_files_summary,
        format_run_problems,
        run_problems,
        superseded_summary,
        warehouse_summary,
    )

    started = time.perf_counter()
    echo(f"running everything on {settings.home} (job shelfwise_all) ...")
    result = run_job(settings, "shelfwise_all", raise_on_error=False)
    problems = run_problems(result)
    echo("")
    echo(warehouse_summary(settings.warehouse_path))
    not_landed = failed_files_summary(settings.warehouse_path)
    for text in (superseded_summary(settings.warehouse_path), home_notes(settings),
                 format_run_problems(problems), not_landed):
        if text:
            echo("")
            echo(text)
    if not_landed:  # a file that could not land is a failure to fix, as with `ingest`
        problems = {**problems, "files_not_landed": [(not_landed.splitlines()[0], "")]}
    return RunOutcome(result.success and not not_landed, problems,
                      time.perf_counter() - started)


@click.command("run")
@click.pass_context
def run(ctx):
    """Ingest the inbox, build every asset whose inputs exist, publish the dashboards' snapshot.

    Prints rows per table, quarantined rows by rule, features skipped for lack of data and
    every check that failed with its reason. Exits non-zero when a step or a blocking check
    failed. The daily schedule (`daily_run`) runs the same job.

    \b
    Example:
      shelfwise --home ~/shop run
    """
    settings = load_settings(ctx.obj["home"])
    if not (settings.home / "shelfwise.toml").exists():
        click.echo(f"note: no shelfwise.toml in {settings.home}: base currency "
                   f"{settings.base_currency} by default; `shelfwise init` sets yours", err=True)
    outcome = run_home(settings)
    click.echo(f"\nrun finished in {outcome.seconds:.0f} s; home: {settings.home}")
    if not outcome.success:
        raise click.ClickException(outcome.reason)
    click.echo(f"next: shelfwise --home {settings.home} dashboards")


# --------------------------------------------------------------------------- check


def why_unrecognised(rel: PurePosixPath, folders: dict[str, list]) -> str:
    """Why no adapter takes an inbox file, and what to do."""
    if len(rel.parts) == 1:
        return ("not in a folder: move it into the folder of what it holds, "
                "e.g. inbox/orders/<channel>/")
    folder = rel.parts[0]
    if folder not in folders:
        return f"'{folder}/' is not an inbox folder (known: {', '.join(sorted(folders))})"
    globs = sorted({g for a in folders[folder] for g in a.file_globs})
    return f"the name matches none of the formats of {folder}/ ({', '.join(globs)})"


@dataclass(frozen=True)
class InboxFile:
    rel: str
    adapter: str | None
    entity: str | None
    note: str


def inbox_files(inbox: Path) -> list[InboxFile]:
    """Every inbox file with the adapter that would read it, or why none would."""
    import os

    from assets.ingest.adapters import ADAPTERS
    from assets.ingest.engine import peek_header, discover, pick_adapter

    folders = inbox_folders()
    out = []
    for path in discover(inbox):
        rel = PurePosixPath(os.path.relpath(path, inbox).replace(os.sep, "/"))
        adapter = pick_adapter(path, rel, ADAPTERS)
        if adapter is None:
            out.append(InboxFile(str(rel), None, None, why_unrecognised(rel, folders)))
            continue
        note = ""
        if adapter.folder == ORDERS and len(rel.parts) < 3:
            note = "put it in a channel sub-folder: inbox/orders/<channel>/ names the channel"
        header = set(peek_header(path, adapter))
        missing = [c for c in adapter.required_columns if c not in header]
        if missing and path.suffix.lower() != ".parquet":
            note = f"header lacks {', '.join(missing)}: the file will fail"
        out.append(InboxFile(str(rel), adapter.name, adapter.entity, note))
    return out


def inbox_currencies(settings: Settings, files: list[InboxFile], limit: int = 30) -> set[str]:
    """Currencies of the order lines in (up to ``limit``) recognised inbox order files."""
    from assets.ingest.adapters import ADAPTERS
    from assets.ingest.adapters.base import AdapterContext
    from assets.ingest.reader import read_records

    by_name = {a.name: a for a in ADAPTERS}
    found: set[str] = set()
    for f in [f for f in files if f.entity == "order_lines"][:limit]:
        adapter, path = by_name[f.adapter], settings.inbox / f.rel
        parts = PurePosixPath(f.rel).parts
        try:
            read = read_records(path, adapter)
            if read.failed or read.frame.is_empty():
                continue
            ctx = AdapterContext(path, f.rel, parts[1] if len(parts) > 2 else None, None,
                                 settings.pii_salt, settings.postal_prefix_chars, None)
            rows = adapter.map(read.frame, ctx).rows
        except Exception:  # noqa: BLE001 - a doctor reports, it does not crash on a bad file
            continue
        if "currency" in rows.columns:
            found |= {c for c in rows["currency"].drop_nulls().unique().to_list() if c}
    return found


def settings_findings(settings: Settings, files: list[InboxFile]) -> list[str]:
    """Settings that look wrong for the data: currencies with no FX rate, no toml, ..."""
    from assets.warehouse import connect
    from pipelines.queries import fx_currencies, order_currencies

    findings = []
    toml = settings.home / "shelfwise.toml"
    if not toml.exists():
        findings.append(f"no {toml}: base currency {settings.base_currency} by default; run "
                        "`shelfwise init --base-currency CUR --timezone TZ`")
    tz = settings.section("kpis").get("timezone")
    if tz is None:
        findings.append("no [kpis] timezone in shelfwise.toml: days and months are counted in UTC")
    currencies = inbox_currencies(settings, files)
    fx: set[str] = set()
    if settings.warehouse_path.exists():
        with connect(settings.warehouse_path, read_only=True) as con:
            currencies |= order_currencies(con)
            fx = fx_currencies(con)
    if any(f.entity == "fx_rates" for f in files):
        fx |= _inbox_fx_currencies(settings, files)
    for currency in sorted(currencies - fx - {settings.base_currency}):
        findings.append(
            f"orders in {currency} but no FX rate from {currency} to the base currency "
            f"{settings.base_currency}: their revenue will not count in {settings.base_currency}. "
            f"Add daily rates to inbox/fx_rates/, or set base_currency = \"{currency}\" in "
            "shelfwise.toml if that is your currency")
    return findings


def _inbox_fx_currencies(settings: Settings, files: list[InboxFile]) -> set[str]:
    import polars as pl

    found: set[str] = set()
    for f in files:
        if f.entity != "fx_rates":
            continue
        path = settings.inbox / f.rel
        try:
            frame = (pl.read_parquet(path, columns=["currency"]) if path.suffix == ".parquet"
                     else pl.read_csv(path, columns=["currency"], infer_schema=False))
        except Exception:  # noqa: BLE001 - a doctor reports, it does not crash on a bad file
            continue
        found |= set(frame["currency"].drop_nulls().unique().to_list())
    return found


@click.command()
@click.pass_context
def check(ctx):
    """What the home holds and what it still needs: no warehouse is changed.

    \b
    - each inbox file and the format (adapter) that reads it, or why none does;
    - each feature, the data it needs and whether the home has it;
    - settings that look wrong (orders in a currency without FX rate to the base currency).

    \b
    Example:
      shelfwise --home ~/shop check
    """
    from assets.features import feature_status, present_entities
    from assets.warehouse import connect
    from pipelines.summary import format_table

    settings = load_settings(ctx.obj["home"])
    files = inbox_files(settings.inbox)
    click.echo(f"Inbox {settings.inbox}: {len(files)} file(s)")
    if files:
        click.echo(format_table(["file", "format", "entity", "note"],
                                [(f.rel, f.adapter or "(none)", f.entity or "", f.note)
                                 for f in files]))
    unknown = [f for f in files if f.adapter is None]
    present = {f.entity for f in files if f.entity and not f.note.startswith("header lacks")}
    if settings.warehouse_path.exists():
        with connect(settings.warehouse_path, read_only=True) as con:
            present |= present_entities(con)
    statuses = feature_status(present)
    click.echo("\nFeatures (from the inbox and what is already ingested)")
    click.echo(format_table(
        ["feature", "needs", "status"],
        [(s.feature.name, ", ".join(s.feature.needs),
          "ok" if s.available else f"skipped: {s.how_to_enable}") for s in statuses]))
    findings = settings_findings(settings, files)
    if findings:
        click.echo("\nSettings that look wrong")
        for f in findings:
            click.echo(f"  - {f}")
    lacking = [s for s in statuses if not s.available]
    click.echo(f"\n{len(files) - len(unknown)} file(s) recognised, {len(unknown)} not; "
               f"{len(statuses) - len(lacking)} of {len(statuses)} features available; "
               f"{len(findings)} setting(s) to look at.")
