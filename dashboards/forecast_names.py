"""Forecast model names in a planner's words (the technical name stays on hover).

The forecasting library names its candidates as statsforecast does (``TSB×wd``,
``Combo(ADIDA,IMAPA,TSB,WA56)×wd``, ``new: category rate``); a manager reads
"Intermittent-demand model (TSB) with weekday profile". Names not listed here are shown as
they are.
"""

from __future__ import annotations

import re

BASES = {
    "ADIDA": "Intermittent-demand model (ADIDA, demand summed over periods)",
    "IMAPA": "Intermittent-demand model (IMAPA, several aggregation levels)",
    "TSB": "Intermittent-demand model (TSB)",
    "CrostonSBA": "Intermittent-demand model (Croston, SBA)",
    "CrostonOptimized": "Intermittent-demand model (Croston)",
    "HistoricAverage": "Average of all history",
    "SES": "Recent level, exponentially smoothed (SES)",
    "SeasonalES7": "Recent level with its own weekday pattern (seasonal smoothing)",
    "SeasonalWA7x8": "Same weekday, average of the last 8 weeks",
    "SeasonalNaive": "Same day last week",
    "AutoETS": "Exponential smoothing, fitted (ETS)",
    "AutoARIMA": "ARIMA, fitted",
    "new: category rate": "New product: its category's sales rate",
    "zero (dead)": "No demand expected (product not selling)",
}
WEEKDAY = "×wd"


def _base(name: str) -> str:
    window = re.fullmatch(r"(?:WindowAverage|WA)(\d+)", name)
    if window:
        return f"Average of the last {window.group(1)} days"
    return BASES.get(name, name)


def _short(name: str) -> str:
    """A blend's part, briefly: ``WA56`` -> "56-day average", ``SES`` stays."""
    window = re.fullmatch(r"(?:WindowAverage|WA)(\d+)", name)
    return f"{window.group(1)}-day average" if window else name


def plain_model_name(name: str | None) -> str:
    """``TSB×wd`` -> "Intermittent-demand model (TSB) with weekday profile"; a combination
    -> "Blend of 4 models (ADIDA, IMAPA, TSB, 56-day average) ..."; unknown names unchanged."""
    if name is None:
        return "(no model)"
    weekday = name.endswith(WEEKDAY)
    core = name[: -len(WEEKDAY)] if weekday else name
    combo = re.fullmatch(r"Combo\((.*)\)", core)
    if combo:
        parts = [p.strip() for p in combo.group(1).split(",")]
        text = f"Blend of {len(parts)} models ({', '.join(_short(p) for p in parts)})"
    else:
        text = _base(core)
    return text + (" with weekday profile" if weekday else "")
