"""Order-quantity arithmetic shared by the replenishment policy and the policy simulator.

Everything here is in units (whole items) and vectorised over numpy arrays, so one call sizes
every SKU's order at once. No Dagster, no DuckDB.
"""

from __future__ import annotations

import numpy as np


def round_to_case_pack(
    need_units: np.ndarray | float,
    case_pack: np.ndarray | int,
    moq: np.ndarray | int = 0,
) -> np.ndarray:
    """The smallest orderable quantity that covers ``need_units``, in units.

    Orderable: a whole number of cases (``case_pack`` units each) and at least ``moq`` units
    (the MOQ itself rounded up to whole cases, since a supplier ships cases). A need of 0 or
    less orders nothing (0), never the MOQ. ``case_pack`` below 1 is treated as 1; ``moq``
    below 0 as 0. Fractional needs round up (2.1 units needed → 3 units for a pack of 1).

    Returns int64 units; always a multiple of the case pack, ≥ ``need_units`` and ≥ the MOQ
    whenever the need is positive.
    """
    need = np.asarray(need_units, dtype=float)
    pack = np.maximum(np.asarray(case_pack, dtype=np.int64), 1)
    floor = np.maximum(np.asarray(moq, dtype=np.int64), 0)
    units = np.maximum(np.ceil(np.maximum(need, 0.0) - 1e-9), floor)
    cases = np.ceil(units / pack)
    return np.where(need > 0, (cases * pack).astype(np.int64), 0)


def floor_to_case_pack(units: np.ndarray | float, case_pack: np.ndarray | int) -> np.ndarray:
    """The largest whole number of cases within ``units``, in units (int64, never below 0).

    What a cap allows: 130 units of room with a pack of 60 → 120. ``case_pack`` below 1 is
    treated as 1; NaN or negative room gives 0.
    """
    room = np.nan_to_num(np.asarray(units, dtype=float), nan=0.0).clip(min=0.0)
    pack = np.maximum(np.asarray(case_pack, dtype=np.int64), 1)
    return (np.floor(room / pack + 1e-9) * pack).astype(np.int64)


def top_up_to_value(
    units: np.ndarray,
    case_pack: np.ndarray,
    unit_value: np.ndarray,
    headroom_units: np.ndarray,
    group: np.ndarray,
    min_value: np.ndarray,
) -> np.ndarray:
    """Add whole cases so each order group reaches its minimum order value, most urgent first.

    Lines are given in urgency order within each group (the first line of a group is its most
    urgent). ``units``: the lines' quantities (whole cases already); ``unit_value``: value per
    unit (any currency, the same as ``min_value``); ``headroom_units``: how many more units a
    line may take (e.g. up to a coverage cap; rounded down to whole cases here); ``group``:
    the order each line belongs to (e.g. supplier × order day); ``min_value``: the group's
    minimum order value, given on every line (the group's first value counts; ≤ 0: none).

    Greedy: the shortfall (minimum − current value) is filled by the first line up to its
    headroom, then the next, and so on; the line that crosses the minimum gets just enough
    cases (so the order overshoots by less than one of its cases). A line with no value per
    unit cannot help. If the headroom runs out the group stays below its minimum.

    Returns the new int64 quantities (≥ ``units``, whole cases, at most ``units + headroom``).
    """
    units = np.asarray(units, dtype=np.int64)
    n = units.size
    if n == 0:
        return units.copy()
    pack = np.maximum(np.asarray(case_pack, dtype=np.int64), 1)
    value = np.nan_to_num(np.asarray(unit_value, dtype=float)).clip(min=0.0)
    room_cases = floor_to_case_pack(headroom_units, pack) // pack
    group = np.asarray(group)
    # group boundaries: lines of a group are contiguous (the caller sorts by group, urgency)
    starts = np.flatnonzero(np.r_[True, group[1:] != group[:-1]])
    if len(np.unique(group)) != len(starts):
        raise ValueError("lines of one order group must be contiguous (sort by group, urgency)")
    sizes = np.diff(np.r_[starts, n])
    first = np.repeat(starts, sizes)
    minimum = np.nan_to_num(np.asarray(min_value, dtype=float))[first]

    line_value = units * value
    current = np.repeat(np.add.reduceat(line_value, starts), sizes)
    shortfall = np.maximum(minimum - current, 0.0)
    case_value = pack * value
    room_value = np.where(case_value > 0, room_cases * case_value, 0.0)
    cum = np.cumsum(room_value)
    before = cum - room_value - np.repeat(cum[starts] - room_value[starts], sizes)
    still_short = shortfall - before
    with np.errstate(over="ignore"):  # a tiny case value needs "infinitely" many cases
        needed_cases = np.where(
            (case_value > 0) & (still_short > 1e-9),
            np.ceil(np.divide(still_short, case_value, out=np.zeros(n), where=case_value > 0)
                    - 1e-9),
            0.0,
        )
    added = np.minimum(needed_cases, room_cases).astype(np.int64)
    return units + added * pack
