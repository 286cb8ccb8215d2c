"""Auto-approve rules a retailer sets in ``shelfwise.toml``; none by default.

::

    [approvals]
    # a suggestion that matches any rule is approved by the pipeline (user "auto-approve"),
    # unless a planner has decided on it already; every key of a rule must hold
    auto_approve = [
      { abc_class = "A", max_line_value_base = 500.0 },   # A items up to 500 EUR a line
      { supplier_id = "SUP-03", max_units = 24 },         # small top-ups from one supplier
    ]

Rule keys: ``abc_class`` and ``xyz_class`` (from marts.replenishment_policy), ``supplier_id``,
``location_id`` (equal), ``max_line_value_base`` (base currency, inclusive), ``max_units``
(inclusive). A rule needs at least one key.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from assets.settings import Settings, SettingsError, read_section, read_table


class ApprovalSettingsError(SettingsError):
    """A value in shelfwise.toml ``[approvals]`` that cannot be used (the message names it)."""


@dataclass(frozen=True)
class AutoApproveRule:
    abc_class: str | None = None
    xyz_class: str | None = None
    supplier_id: str | None = None
    location_id: str | None = None
    max_line_value_base: float | None = None
    max_units: int | None = None

    def describe(self) -> str:
        """The rule in words for the audit note, e.g. ``abc_class=A, line_value_base<=500``."""
        parts = [f"{f.name}={getattr(self, f.name)}" for f in fields(self)
                 if not f.name.startswith("max_") and getattr(self, f.name) is not None]
        if self.max_line_value_base is not None:
            parts.append(f"line_value_base<={self.max_line_value_base:g}")
        if self.max_units is not None:
            parts.append(f"suggested_units<={self.max_units}")
        return ", ".join(parts)


@dataclass(frozen=True)
class ApprovalSettings:
    """The ``[approvals]`` table: the auto-approve rules, each an inline table."""

    auto_approve: list = field(default_factory=list)


def approval_rules(settings: Settings) -> list[AutoApproveRule]:
    """The ``[approvals] auto_approve`` rules, validated (errors name the rule and key)."""
    raw = read_section(settings, "approvals", ApprovalSettings,
                       error=ApprovalSettingsError).auto_approve
    rules = []
    for n, item in enumerate(raw, start=1):
        where = f"shelfwise.toml [approvals] auto_approve rule {n}"
        if not isinstance(item, dict) or not item:
            raise ApprovalSettingsError(f"{where}: must be a table with at least one key")
        # the reader checks the keys; the values (all None by default) are checked here
        rule = read_table(item, "approvals", AutoApproveRule, error=ApprovalSettingsError,
                          where=where)
        for key in ("max_line_value_base", "max_units"):
            value = item.get(key)
            if value is not None and (isinstance(value, bool) or not isinstance(value, (int, float))
                                      or value < 0):
                raise ApprovalSettingsError(f"{where}: {key} must be a number >= 0, got {value!r}")
        for key in ("abc_class", "xyz_class", "supplier_id", "location_id"):
            if key in item and not isinstance(item[key], str):
                raise ApprovalSettingsError(f"{where}: {key} must be text, got {item[key]!r}")
        rules.append(rule)
    return rules
