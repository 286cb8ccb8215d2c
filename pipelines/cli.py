"""The ``shelfwise`` command line. ``shelfwise --help`` is the manual; each command's ``--help``
explains its options with an example.

Every command works on one shelfwise home folder (``--home`` or ``$SHELFWISE_HOME``, default
``./data``): inbox, warehouse, serving snapshot, outbox and Dagster state all live there.
"""

from __future__ import annotations

import importlib

import click

from assets.settings import home_dir

# command modules under pipelines/commands, each exposing COMMANDS: list[click.Command]
COMMAND_MODULES = [
    "pipelines.commands.core",
    "pipelines.commands.home",
    "pipelines.commands.inventory",
    "pipelines.commands.dashboards",
    "pipelines.commands.forecast",
    "pipelines.commands.replenishment",
    "pipelines.commands.transfers",
    "pipelines.commands.simulate",
    "pipelines.commands.approvals",
    "pipelines.commands.alerts",
]


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        # keep the order in which the commands were added: the order a new user needs them
        return list(self.commands)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
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
    """shelfwise: inventory and order analytics for multi-channel e-commerce.

    \b
    Quick start:
      shelfwise demo            generate demo data, run every asset, print a summary
      shelfwise ui              open the Dagster UI on http://127.0.0.1:3000
      shelfwise dashboards      open the dashboards on http://127.0.0.1:8501
    \b
    Your own data (docs/your-data.md):
      shelfwise init            create a home: inbox folders, shelfwise.toml (currency, time zone)
      shelfwise check           which file goes to which format, what each feature still needs
      shelfwise run             ingest, build everything the files allow, publish the dashboards
    \b
    Data in:
      shelfwise generate        write a deterministic demo inbox (channels, warehouses, suppliers)
      shelfwise ingest          land new inbox files into the DuckDB warehouse
      shelfwise status          rows per table, quarantined rows by rule
    \b
    Inventory:
      shelfwise ats             available-to-sell per channel (--channel, --sku, --location)
      shelfwise reconcile       rebuild the ledger, reconcile snapshots, print discrepancies
      shelfwise feeds           channel availability feed files in the outbox, with sha256
    \b
    Planning:
      shelfwise forecast        daily demand forecast with quantiles per SKU, from a demand file
      shelfwise backtest        rolling-origin accuracy of the forecast against simple baselines
      shelfwise override        adjust a SKU's forecast for some days (--list shows them all)
      shelfwise suggestions     what to order now, most urgent first, each with its reason
      shelfwise transfers       spare stock to move between locations before buying
      shelfwise policy          a SKU's safety stock, reorder point, order-up-to, projected stock
      shelfwise simulate        replay demand under shelfwise's policy and a min/max rule; fill rate vs stock
    \b
    Approvals:
      shelfwise approve         approve suggestions (--quantity N, --note, --all-for-supplier S)
      shelfwise reject          reject suggestions: nothing is ordered for them
      shelfwise decisions       current decisions (--status); --history: every change, by whom
      shelfwise restock         send approved lines now: one PO file per supplier (CSV + XLSX)
    \b
    Operations:
      shelfwise alerts          open alerts, most severe first (--run evaluates and sends first)
      shelfwise alerts --deliveries   the delivery log: every attempt per sink, failures marked
    """
    ctx.obj = {"home": str(home_dir(home))}


for _module in COMMAND_MODULES:
    for _command in importlib.import_module(_module).COMMANDS:
        main.add_command(_command)


if __name__ == "__main__":
    main()
