"""Indicator monitoring (000 §十三): each county indicator against its target, with a grade.

A grade comes from the relative balance ``(computed − target) / target`` and
configurable thresholds: at or above ``met_at`` the indicator is met (达标);
short by no more than ``warn_within`` it is a warning (预警); further short it
is short (未达标).

Examples
--------
>>> grade_indicator([100.0, 99.5, 90.0], [100.0, 100.0, 100.0]).tolist()
['met', 'warning', 'short']
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

__all__ = ["DEFAULT_THRESHOLDS", "GRADE_COLOURS", "GRADE_ZH", "Thresholds", "grade_indicator"]

#: Grade labels in Chinese, and colours for charts (one source for tables and plots).
GRADE_ZH = MappingProxyType({"met": "达标", "warning": "预警", "short": "未达标", "none": "无目标"})
GRADE_COLOURS = MappingProxyType(
    {"met": "#1a9641", "warning": "#fdae61", "short": "#d7191c", "none": "#bdbdbd"}
)


@dataclass(frozen=True)
class Thresholds:
    """Warning thresholds as shares of the target (0.01 = 1 %)."""

    met_at: float = 0.0
    warn_within: float = 0.01


#: 1 % short of the target is still a warning, not short.
DEFAULT_THRESHOLDS = Thresholds()


def grade_indicator(
    computed: Sequence[float] | np.ndarray,
    target: Sequence[float] | np.ndarray,
    thresholds: Thresholds = DEFAULT_THRESHOLDS,
) -> np.ndarray:
    """``met`` / ``warning`` / ``short`` per indicator; ``none`` where there is no target.

    Parameters
    ----------
    computed
        Computed value of every indicator.
    target
        Target of every indicator, in the unit of *computed*; NaN where there
        is none.
    thresholds
        Where met ends and warning and short begin.

    Returns
    -------
    numpy.ndarray
        Grade of every indicator (object dtype); a target of 0 or less is always met.
    """
    value = np.asarray(computed, dtype=float)
    goal = np.asarray(target, dtype=float)
    with np.errstate(invalid="ignore", divide="ignore"):
        balance = np.where(goal > 0, (value - goal) / goal, np.nan)
    grade = np.full(value.shape, "short", dtype=object)
    grade[balance >= -thresholds.warn_within] = "warning"
    grade[balance >= thresholds.met_at] = "met"
    grade[np.isnan(goal)] = "none"
    grade[goal <= 0] = "met"  # nothing asked for
    return grade
