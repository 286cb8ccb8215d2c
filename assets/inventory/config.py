"""The inventory knobs a retailer sets in ``shelfwise.toml``, with their defaults.

::

    [reconciliation]
    tolerance_units = 2        # a difference of up to 2 units is within tolerance ...
    tolerance_pct = 0.02       # ... or of up to 2 % of the expected quantity (the larger wins)
    min_accuracy = 0.95        # the accuracy check fails below this share of SKU-locations
    shrinkage_max_units = 5    # a negative counted difference up to 5 units ...
    shrinkage_max_pct = 0.05   # ... or 5 % of expected is called "shrinkage"
    cause_lookahead_days = 1   # a receipt/shipment posted up to N days later explains a difference
    schedule_cron = "0 6 * * *"
    schedule_timezone = "UTC"  # any tz database name, e.g. "Europe/Berlin"

    [inventory]
    payment_window_hours = 72  # a placed, unpaid order line holds stock this long, then releases

    [channels.etsy]            # overrides core.channels for one channel
    safety_buffer_units = 3
    safety_buffer_pct = 0.10
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from assets.settings import Settings, SettingsError, check_timezone, read_section, read_table


class InventorySettingsError(SettingsError):
    """A value in shelfwise.toml that the inventory domain cannot use."""


@dataclass(frozen=True)
class ReconciliationSettings:
    tolerance_units: int = 2
    tolerance_pct: float = 0.02
    min_accuracy: float = 0.95
    shrinkage_max_units: int = 5
    shrinkage_max_pct: float = 0.05
    cause_lookahead_days: int = 1
    schedule_cron: str = "0 6 * * *"
    schedule_timezone: str = "UTC"


@dataclass(frozen=True)
class AllocationSettings:
    payment_window_hours: float = 72.0


def reconciliation_settings(settings: Settings) -> ReconciliationSettings:
    """The ``[reconciliation]`` table with defaults, validated."""
    rec = read_section(settings, "reconciliation", ReconciliationSettings,
                       error=InventorySettingsError)
    if rec.tolerance_units < 0 or not 0 <= rec.tolerance_pct < 1:
        raise InventorySettingsError(
            "shelfwise.toml [reconciliation]: tolerance_units must be >= 0 and tolerance_pct in [0, 1)"
        )
    if not 0 <= rec.min_accuracy <= 1:
        raise InventorySettingsError("shelfwise.toml [reconciliation]: min_accuracy must be in [0, 1]")
    check_timezone(rec.schedule_timezone, "reconciliation", "schedule_timezone",
                   InventorySettingsError)
    return rec


def allocation_settings(settings: Settings) -> AllocationSettings:
    """The ``[inventory]`` table with defaults, validated."""
    alloc = read_section(settings, "inventory", AllocationSettings, error=InventorySettingsError)
    if alloc.payment_window_hours < 0:
        raise InventorySettingsError("shelfwise.toml [inventory]: payment_window_hours must be >= 0")
    return alloc


@dataclass(frozen=True)
class ChannelBufferOverride:
    """``[channels.<id>]``: the channel's safety buffer instead of core.channels' (None: keep)."""

    safety_buffer_units: int | None = None
    safety_buffer_pct: float | None = None


BUFFER_OVERRIDE_SCHEMA = {
    "channel_id": pl.String(),
    "safety_buffer_units": pl.Int64(),
    "safety_buffer_pct": pl.Float64(),
}


def channel_buffer_overrides(settings: Settings) -> pl.DataFrame:
    """``[channels.<id>]`` safety-buffer overrides as a frame (null = keep core.channels' value)."""
    rows = []
    for channel_id, table in sorted(settings.section("channels").items()):
        if not isinstance(table, dict):
            raise InventorySettingsError(
                f"shelfwise.toml [channels] {channel_id}: expected a table [channels.{channel_id}]"
            )
        # a channel id may hold a dot: the table is read as given, not by a dotted name.
        # None: the key is not set (the reader leaves a None default's type to this check)
        buffer = read_table(table, f"channels.{channel_id}", ChannelBufferOverride,
                            error=InventorySettingsError)
        units, pct = buffer.safety_buffer_units, buffer.safety_buffer_pct
        if units is not None and (not isinstance(units, int) or isinstance(units, bool) or units < 0):
            raise InventorySettingsError(
                f"shelfwise.toml [channels.{channel_id}] safety_buffer_units = {units!r}: "
                "expected a whole number >= 0"
            )
        if pct is not None and (not isinstance(pct, (int, float)) or isinstance(pct, bool)
                                or not 0 <= pct < 1):
            raise InventorySettingsError(
                f"shelfwise.toml [channels.{channel_id}] safety_buffer_pct = {pct!r}: "
                "expected a share in [0, 1)"
            )
        if units is not None or pct is not None:
            rows.append({"channel_id": str(channel_id), "safety_buffer_units": units,
                         "safety_buffer_pct": None if pct is None else float(pct)})
    return pl.DataFrame(rows, schema=BUFFER_OVERRIDE_SCHEMA)
