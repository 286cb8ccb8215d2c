"""What a run's summary says about money the KPIs could not convert to the base currency."""

from __future__ import annotations

import duckdb


def unconverted_revenue_note(con: duckdb.DuckDBPyConnection) -> str | None:
    """A few lines for the run summary: revenue left out of the KPIs for want of an FX rate,
    per currency (orders, amount in that currency, first and last local order day), and the
    fix. None when everything converted (or the KPI marts are not built yet)."""
    present = {t for (t,) in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = 'marts' "
        "AND table_name IN ('kpi_unconverted_revenue', 'kpi_reporting_settings')").fetchall()}
    if present != {"kpi_unconverted_revenue", "kpi_reporting_settings"}:
        return None
    rows = con.execute(
        """SELECT currency, sum(orders)::BIGINT, sum(revenue), min(order_date), max(order_date)
           FROM marts.kpi_unconverted_revenue GROUP BY currency ORDER BY 3 DESC, 1"""
    ).fetchall()
    if not rows:
        return None
    base = con.execute("SELECT base_currency FROM marts.kpi_reporting_settings").fetchall()[0][0]
    lines = [f"Revenue without an FX rate to {base} (left out of every {base} figure, never 0):"]
    lines += [f"  {cur}: {amount:,.2f} in {orders:,} orders, {first} to {last}"
              for cur, orders, amount, first, last in rows]
    lines.append(
        f"  Fix: drop an FX file in inbox/fx_rates/ (CSV rate_date,currency,rate_to_base: {base} "
        f"per unit of the currency), or set base_currency = \"{rows[0][0]}\" in shelfwise.toml "
        "if that is your currency; the next run recomputes every amount.")
    return "\n".join(lines)
