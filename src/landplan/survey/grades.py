"""三调 slope grades (耕地坡度级别, ``GDPDJB``): the one definition of their bounds.

Grade 1 is ≤ 2°, 2 ≤ 6°, 3 ≤ 15°, 4 ≤ 25° and 5 > 25°.  The plans' slope
rules speak of 15° and 25°, which are the upper bounds of grades 3 and 4.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "GRADE_CEIL_DEG",
    "GRADE_FLOOR_DEG",
    "SLOPE_15_DEG",
    "SLOPE_25_DEG",
    "SLOPE_GRADE_BOUNDS_DEG",
    "grade_bounds",
    "slope_grade",
]

#: Upper bounds (degrees, inclusive) of 三调 slope grades 1-4; grade 5 is > 25°.
SLOPE_GRADE_BOUNDS_DEG: tuple[float, ...] = (2.0, 6.0, 15.0, 25.0)
#: The plans' 15° limit (upper bound of grade 3).
SLOPE_15_DEG = SLOPE_GRADE_BOUNDS_DEG[2]
#: The plans' 25° limit (upper bound of grade 4).
SLOPE_25_DEG = SLOPE_GRADE_BOUNDS_DEG[3]

#: Lowest slope (degrees, exclusive) of each grade 1-5, indexed by grade (0 unknown).
GRADE_FLOOR_DEG = np.array([np.nan, 0.0, *SLOPE_GRADE_BOUNDS_DEG])
#: Highest slope (degrees, inclusive) of each grade 1-5, indexed by grade (0 unknown).
GRADE_CEIL_DEG = np.array([np.nan, *SLOPE_GRADE_BOUNDS_DEG, 90.0])


def slope_grade(slope_deg: np.ndarray) -> np.ndarray:
    """三调 slope grade (1-5) of slopes in degrees.

    Parameters
    ----------
    slope_deg
        Slopes in degrees.

    Returns
    -------
    numpy.ndarray
        Integer grades 1-5.

    Examples
    --------
    >>> slope_grade(np.array([0.0, 2.0, 2.1, 15.0, 25.0, 25.1])).tolist()
    [1, 1, 2, 3, 4, 5]
    """
    return np.digitize(slope_deg, SLOPE_GRADE_BOUNDS_DEG, right=True) + 1


def grade_bounds(grade: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lowest (exclusive) and highest (inclusive) slope in degrees of each grade.

    Parameters
    ----------
    grade
        Grades 1-5 as floats; NaN where unknown.

    Returns
    -------
    tuple of numpy.ndarray
        Floor and ceiling in degrees; NaN where the grade is unknown.

    Examples
    --------
    >>> [b.tolist() for b in grade_bounds(np.array([4.0, np.nan]))]
    [[15.0, nan], [25.0, nan]]
    """
    idx = np.where(np.isnan(grade), 0, np.clip(grade, 0, 5)).astype(int)
    return GRADE_FLOOR_DEG[idx], GRADE_CEIL_DEG[idx]
