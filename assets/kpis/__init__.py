"""KPIs: the manager's numbers as marts (fulfillment time, on-time ship, returns, sales,
fill rate, stockouts, turnover, dead stock, supplier on-time, accuracy). See docs/kpis.md.

``defs`` is built on first access, so :mod:`assets.kpis.marts` (its settings, read by the
alert settings and the command line) does not import Dagster."""


def __getattr__(name: str):
    # PEP 562: Dagster is imported only when the code location asks for `defs`
    if name == "defs":
        import dagster as dg

        from assets.kpis.accuracy import ACCURACY_ASSETS
        from assets.kpis.assets import KPI_ASSETS
        from assets.kpis.checks import CHECKS

        globals()["defs"] = dg.Definitions(
            assets=[*KPI_ASSETS, *ACCURACY_ASSETS], asset_checks=CHECKS
        )
        return globals()["defs"]
    raise AttributeError(name)
