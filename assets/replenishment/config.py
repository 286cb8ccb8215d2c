"""The replenishment knobs a retailer sets in ``shelfwise.toml``, with their defaults.

::

    [replenishment]
    max_coverage_days = 120        # at most 120 days of demand on hand when an order arrives
    horizon_days = 56              # days of projected stock (at most the forecast's horizon)
    n_sims = 1000                  # Monte Carlo scenarios per SKU × location (L + R demand)
    seed = 0                       # same seed, same reorder points
    lead_time_history_days = 365   # PO lines ordered in the last year teach the lead times
    min_po_lines = 5               # received lines needed to trust a learned lead time
    demand_share_days = 90         # a location's share of a SKU: its shipped units, last 90 days
    fill_rate_target = 0.95        # opt-in: per-SKU levels chosen for this pooled fill rate
                                   # at the least stock value (0, the default: the matrix)
    cycle_stock_reviews = 1.0      # review periods of demand one order adds above the reorder
                                   # point: below 1, more orders and less stock (docs/replenishment.md)
    moq_overbuy_days = 30          # flag a suggestion whose MOQ adds more than 30 days of
                                   # demand beyond the need (order-up-to, in whole cases)

    [replenishment.service_levels]  # ABC × XYZ cell → target service level (any cells you set)
    AX = 0.98
    CZ = 0.90

    [replenishment.sku_service_levels]  # per-SKU override, wins over the matrix
    "SKU-00042" = 0.99

    [replenishment.transfers]      # transfers before purchases (docs/replenishment.md)
    enabled = true                 # false: never suggest a transfer, buy every need
    lead_time_days = 3             # days from one location to another, any pair not listed
    cost_per_unit = 0.0            # base currency per unit moved, any pair not listed

    [replenishment.transfers.lanes]  # per ordered pair "FROM>TO": its own lead time and cost
    "WH-BER>WH-HAM" = { lead_time_days = 2, cost_per_unit = 0.4 }

Defaults of the matrix: :data:`forecasting.policy.DEFAULT_SERVICE_LEVELS`. Every error names
the table and the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from assets.settings import Settings, SettingsError, read_section

SECTION = "replenishment"


class ReplenishmentSettingsError(SettingsError):
    """A value in shelfwise.toml ``[replenishment]`` that the policy cannot use."""


@dataclass(frozen=True)
class TransferSettings:
    """``[replenishment.transfers]``: whether spare stock moves before anything is bought, the
    default lead time (days) and cost (base currency per unit) of a move, and per-pair lanes
    ``{(from, to): (lead_time_days, cost_per_unit)}``."""
    enabled: bool = True
    lead_time_days: float = 3.0
    cost_per_unit: float = 0.0
    lanes: dict = field(default_factory=dict)


@dataclass(frozen=True)
class ReplenishmentSettings:
    max_coverage_days: float = 120.0
    horizon_days: int = 56
    n_sims: int = 1000
    seed: int = 0
    lead_time_history_days: int = 365
    min_po_lines: int = 5
    demand_share_days: int = 90
    # 0 (off): service levels from the ABC × XYZ matrix; else the pooled fill rate β (0..1)
    # the policy allocates per-SKU levels for (forecasting.policy.policy_levels)
    fill_rate_target: float = 0.0
    # order-up-to = reorder point + this many review periods of demand
    cycle_stock_reviews: float = 1.0
    # a suggestion is an MOQ-driven overbuy when the MOQ adds more than this many days of mean
    # demand beyond the need rounded up to whole cases (marts.replenishment_suggestions)
    moq_overbuy_days: float = 30.0
    service_levels: dict = field(default_factory=dict)  # the full matrix after defaults
    sku_service_levels: dict = field(default_factory=dict)
    transfers: TransferSettings = field(default_factory=TransferSettings)


def _transfer_settings(table: TransferSettings) -> TransferSettings:
    """The ``[replenishment.transfers]`` table (keys and types checked by the reader),
    validated: numbers ≥ 0, lanes ``"FROM>TO" = { lead_time_days, cost_per_unit }`` (every
    message names the key)."""
    where = f"shelfwise.toml [{SECTION}.transfers]"

    def number(value, key: str) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not value >= 0:
            raise ReplenishmentSettingsError(f"{where} {key} = {value!r}: expected a number ≥ 0")
        return float(value)

    # the reader made them floats: shown as written (-1, not -1.0)
    for key in ("lead_time_days", "cost_per_unit"):
        if not getattr(table, key) >= 0:
            raise ReplenishmentSettingsError(
                f"{where} {key} = {getattr(table, key):g}: expected a number ≥ 0")
    lead, cost = table.lead_time_days, table.cost_per_unit
    lanes = {}
    for pair, lane in table.lanes.items():
        ends = [p.strip() for p in str(pair).split(">")]
        if len(ends) != 2 or not all(ends) or ends[0] == ends[1] or not isinstance(lane, dict):
            raise ReplenishmentSettingsError(
                f"{where}.lanes \"{pair}\": expected \"FROM>TO\" = {{ lead_time_days = 2, "
                "cost_per_unit = 0.4 }} (two different location ids)")
        bad = sorted(set(lane) - {"lead_time_days", "cost_per_unit"})
        if bad:
            raise ReplenishmentSettingsError(
                f"{where}.lanes \"{pair}\": unknown key(s) {', '.join(bad)}; "
                "known: lead_time_days, cost_per_unit")
        lanes[(ends[0], ends[1])] = (
            number(lane.get("lead_time_days", lead), f'lanes "{pair}" lead_time_days'),
            number(lane.get("cost_per_unit", cost), f'lanes "{pair}" cost_per_unit'))
    return replace(table, lanes=lanes)


def replenishment_settings(settings: Settings) -> ReplenishmentSettings:
    """The ``[replenishment]`` table with defaults, validated (the message names the key)."""
    from forecasting.policy import DEFAULT_SERVICE_LEVELS, validate_service_levels

    given = read_section(settings, SECTION, ReplenishmentSettings,
                         error=ReplenishmentSettingsError)
    matrix = {**DEFAULT_SERVICE_LEVELS,
              **{str(k).upper(): v for k, v in given.service_levels.items()}}
    overrides = {str(k): v for k, v in given.sku_service_levels.items()}
    try:
        validate_service_levels(matrix, overrides)
    except ValueError as exc:
        raise ReplenishmentSettingsError(f"shelfwise.toml [{SECTION}]: {exc}") from exc
    result = replace(given, service_levels=matrix,
                     sku_service_levels={k: float(v) for k, v in overrides.items()},
                     transfers=_transfer_settings(given.transfers))
    for key in ("max_coverage_days", "horizon_days", "n_sims", "lead_time_history_days",
                "demand_share_days", "moq_overbuy_days"):
        if getattr(result, key) <= 0:
            raise ReplenishmentSettingsError(f"shelfwise.toml [{SECTION}] {key} must be > 0")
    if not 0 <= result.fill_rate_target < 1:
        raise ReplenishmentSettingsError(
            f"shelfwise.toml [{SECTION}] fill_rate_target = {result.fill_rate_target!r}: must be "
            "a number between 0 and 1 (0.95 is 95 % of units served; 0 turns it off)")
    if not result.cycle_stock_reviews >= 0:
        raise ReplenishmentSettingsError(
            f"shelfwise.toml [{SECTION}] cycle_stock_reviews = {result.cycle_stock_reviews!r}: "
            "must be ≥ 0 (review periods of demand one order adds; 1 is the default)")
    if result.min_po_lines < 2:
        raise ReplenishmentSettingsError(
            f"shelfwise.toml [{SECTION}] min_po_lines must be ≥ 2 (a spread needs two lead times)")
    return result
