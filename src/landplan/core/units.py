"""Area units of the plans, and the one place their conversions are written.

The plans publish areas in 公顷 (ha), 亩 (mu) and 万亩; 1 亩 = 10 000 / 15 m².
landplan computes in m² and converts only for display, from unrounded values.

Examples
--------
>>> round(M2_PER_WANMU / M2_PER_HA, 4)
666.6667
>>> to_unit([M2_PER_MU * 3], "mu").tolist()
[3.0]
"""

from __future__ import annotations

from collections.abc import Sequence
from types import MappingProxyType
from typing import Literal

import numpy as np

__all__ = ["M2_PER_HA", "M2_PER_MU", "M2_PER_UNIT", "M2_PER_WANMU", "AreaUnit", "to_unit"]

#: Square metres per hectare (公顷).
M2_PER_HA = 1e4
#: Square metres per 亩.
M2_PER_MU = 1e4 / 15
#: Square metres per 万亩.
M2_PER_WANMU = 1e4 * M2_PER_MU

AreaUnit = Literal["m2", "ha", "mu", "wanmu"]
#: Square metres per unit, by the suffix landplan's column names use.
M2_PER_UNIT = MappingProxyType({"m2": 1.0, "ha": M2_PER_HA, "mu": M2_PER_MU, "wanmu": M2_PER_WANMU})


def to_unit(m2: Sequence[float] | np.ndarray, unit: AreaUnit) -> np.ndarray:
    """Convert areas in m² to *unit*.

    Parameters
    ----------
    m2
        Areas in square metres.
    unit
        ``"m2"``, ``"ha"``, ``"mu"`` or ``"wanmu"``.

    Returns
    -------
    numpy.ndarray
        The areas in *unit*, as floats.
    """
    return np.asarray(m2, dtype=float) / M2_PER_UNIT[unit]
