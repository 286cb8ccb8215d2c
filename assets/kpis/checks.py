"""Data-quality checks beside the KPI marts.

``returns_linked`` (on ``marts.kpi_returns_linked_by_channel``): the share of returned units
that link to their order line, per channel. A return that links to no line drops out of every
return rate, so the rate is only as good as this share: under ``returns_linked_warn_share``
(99 %) the check warns; under ``returns_linked_block_share`` (90 %) it fails with severity
ERROR and the mart's ``status`` is ``blocked``: the KPIs page leaves that channel out of every
return rate and names it. The check does not stop the run (a Dagster-blocking check would
skip the return-rate marts of every channel and fail the whole run for one channel).
"""

from __future__ import annotations

import dagster as dg

from assets.kpis.marts import KpiSettings
from assets.metadata import md_table
from assets.resources import SettingsResource
from assets.warehouse import WAREHOUSE_POOL, WarehouseResource

RETURNS_LINKED = dg.AssetKey(["marts", "kpi_returns_linked_by_channel"])


@dg.asset_check(asset=RETURNS_LINKED, name="returns_linked", blocking=False, pool=WAREHOUSE_POOL,
                description="Share of returned units linked to their order line, per channel: "
                            "warn under 99 %; under 90 % the channel's return rate is blocked.")
def returns_linked(warehouse: WarehouseResource,
                   shelfwise: SettingsResource) -> dg.AssetCheckResult:
    """Passes when every channel links at least the warn share of its returned units."""
    kpi = KpiSettings.from_settings(shelfwise.settings)
    with warehouse.connect() as con:
        rows = con.execute(
            "SELECT channel_id, units_returned, units_linked, linked_share, linked_by, status "
            "FROM marts.kpi_returns_linked_by_channel ORDER BY channel_id").fetchall()
    blocked = [r[0] for r in rows if r[5] == "blocked"]
    warned = [r[0] for r in rows if r[5] == "warn"]
    shares = [r[3] for r in rows if r[3] is not None]
    table = md_table(["channel", "units returned", "units linked", "linked", "linked by",
                      "status"],
                     [(c, u, k, f"{s:.1%}" if s is not None else "–", b or "–", st)
                      for c, u, k, s, b, st in rows], empty="_(no returns)_")
    return dg.AssetCheckResult(
        passed=not blocked and not warned,
        severity=dg.AssetCheckSeverity.ERROR if blocked else dg.AssetCheckSeverity.WARN,
        metadata={
            "lowest_linked_share": dg.MetadataValue.float(min(shares) if shares else 1.0),
            "units_returned": dg.MetadataValue.int(sum(r[1] or 0 for r in rows)),
            "units_unlinked": dg.MetadataValue.int(sum((r[1] or 0) - (r[2] or 0) for r in rows)),
            "blocked_channels": ", ".join(blocked) or "none",
            "warned_channels": ", ".join(warned) or "none",
            "warn_under": kpi.returns_linked_warn_share,
            "block_under": kpi.returns_linked_block_share,
            "by_channel": dg.MetadataValue.md(table),
        },
    )


CHECKS = [returns_linked]
