"""The ``shelfwise`` command line. ``shelfwise --help`` is the manual; each command's ``--help``
explains its options with an example.

Every command works on one shelfwise home folder (``--home`` or ``$SHELFWISE_HOME``, default
``./data``): inbox, warehouse, serving snapshot, outbox and Dagster state all live there.

The command list is kept in :data:`MANUAL` only: the commands are registered from it and
``shelfwise --help`` prints it (tests/cli/test_command_structure.py checks the README against it).
A new command: write it in a module of ``pipelines/commands/`` and add one line here.
"""

from __future__ import annotations

import click

from assets.settings import home_dir
from pipelines.commands import (
    alerts,
    approvals,
    core,
    dashboards,
    forecast,
    home,
    inventory,
    replenishment,
    simulate,
    transfers,
)

# (section, [(command, how it is called, what it does)]), in the order a new user needs them
MANUAL: list[tuple[str, list[tuple[click.Command, str, str]]]] = [
    ("Quick start", [
        (core.demo, "shelfwise demo", "generate demo data, run every asset, print a summary"),
        (core.ui, "shelfwise ui", "open the Dagster UI on http://127.0.0.1:3000"),
        (dashboards.dashboards, "shelfwise dashboards",
         "open the dashboards on http://127.0.0.1:8501"),
    ]),
    ("Your own data (docs/your-data.md)", [
        (home.init, "shelfwise init",
         "create a home: inbox folders, shelfwise.toml (currency, time zone)"),
        (home.check, "shelfwise check",
         "which file goes to which format, what each feature still needs"),
        (home.run, "shelfwise run",
         "ingest, build everything the files allow, publish the dashboards"),
    ]),
    ("Data in", [
        (core.generate, "shelfwise generate",
         "write a deterministic demo inbox (channels, warehouses, suppliers)"),
        (core.ingest, "shelfwise ingest", "land new inbox files into the DuckDB warehouse"),
        (core.status, "shelfwise status", "rows per table, quarantined rows by rule"),
    ]),
    ("Inventory", [
        (inventory.ats, "shelfwise ats",
         "available-to-sell per channel (--channel, --sku, --location)"),
        (inventory.reconcile, "shelfwise reconcile",
         "rebuild the ledger, reconcile snapshots, print discrepancies"),
        (inventory.feeds, "shelfwise feeds",
         "channel availability feed files in the outbox, with sha256"),
    ]),
    ("Planning", [
        (forecast.forecast, "shelfwise forecast",
         "daily demand forecast with quantiles per SKU, from a demand file"),
        (forecast.backtest, "shelfwise backtest",
         "rolling-origin accuracy of the forecast against simple baselines"),
        (forecast.override, "shelfwise override",
         "adjust a SKU's forecast for some days (--list shows them all)"),
        (replenishment.suggestions, "shelfwise suggestions",
         "what to order now, most urgent first, each with its reason"),
        (transfers.transfers, "shelfwise transfers",
         "spare stock to move between locations before buying"),
        (replenishment.policy, "shelfwise policy",
         "a SKU's safety stock, reorder point, order-up-to, projected stock"),
        (simulate.simulate, "shelfwise simulate",
         "replay demand under shelfwise's policy and a min/max rule; fill rate vs stock"),
    ]),
    ("Approvals", [
        (approvals.approve, "shelfwise approve",
         "approve suggestions (--quantity N, --note, --all-for-supplier S)"),
        (approvals.reject, "shelfwise reject", "reject suggestions: nothing is ordered for them"),
        (approvals.decisions, "shelfwise decisions",
         "current decisions (--status); --history: every change, by whom"),
        (approvals.restock, "shelfwise restock",
         "send approved lines now: one PO file per supplier (CSV + XLSX)"),
    ]),
    ("Operations", [
        (alerts.alerts, "shelfwise alerts",
         "open alerts, most severe first (--run evaluates and sends first)"),
        (alerts.alerts, "shelfwise alerts --deliveries",
         "the delivery log: every attempt per sink, failures marked"),
    ]),
]


def manual_text() -> str:
    """The help text of ``shelfwise``: one line per :data:`MANUAL` entry, by section."""
    lines = ["shelfwise: inventory and order analytics for multi-channel e-commerce.", ""]
    for section, entries in MANUAL:
        lines += ["\b", f"{section}:"]
        # usages aligned in a column; a longer one keeps three spaces before its text
        lines += [f"  {usage}{' ' * max(26 - len(usage), 3)}{what}" for _, usage, what in entries]
    return "\n".join(lines)


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        # keep the order in which the commands were added: the manual's
        return list(self.commands)


@click.group(cls=_Group, help=manual_text(),
             context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--home",
    type=click.Path(file_okay=False),
    envvar="SHELFWISE_HOME",
    default="data",
    show_default=True,
    help="shelfwise home folder (inbox, warehouse, outbox, Dagster state).",
)
@click.pass_context
def main(ctx: click.Context, home: str) -> None:
    ctx.obj = {"home": str(home_dir(home))}


for _section, _entries in MANUAL:
    for _command, _usage, _what in _entries:
        main.add_command(_command)


if __name__ == "__main__":
    main()
