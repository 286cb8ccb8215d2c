"""Alerts: low stock, overstock, dead stock, discrepancies, oversell risk, late POs; sent once
when they open, again when they escalate, and when they resolve; to JSONL, webhook, e-mail.

``defs`` holds the assets (group ``alerts``) and the delivery check; the SQL lives in
:mod:`assets.alerts.rules` and :mod:`assets.alerts.state` (one statement a file in
``assets/alerts/sql/``), the sinks in :mod:`assets.alerts.sinks`. See docs/alerts.md.
``defs`` is built on first access, so the command line can read :mod:`assets.alerts.config`
for its options without importing Dagster (``shelfwise --help`` stays fast).
"""


# the marts this domain builds, for the serving snapshot to wait for (plain data: no Dagster)
SERVED_MARTS = ("alert_delivery_log", "alert_status", "alerts_current")


def __getattr__(name: str):
    # PEP 562: Dagster is imported only when the code location asks for `defs`
    if name == "defs":
        import dagster as dg

        from assets.alerts.assets import ASSETS, CHECKS

        globals()["defs"] = dg.Definitions(assets=ASSETS, asset_checks=CHECKS)
        return globals()["defs"]
    raise AttributeError(name)
