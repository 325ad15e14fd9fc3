"""Parcels grouped by a key (a county code), summed group by group with ``numpy.bincount``.

County tables sum a handful of figures over every parcel of a city.  A table
of every parcel grouped by pandas converts the Arrow text of the county codes
to Python strings, and back, for each table; the codes are factorized once
here, in Arrow when they are Arrow text, and each figure is one
``numpy.bincount``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

__all__ = ["Groups", "groups_of"]


@dataclass(frozen=True)
class Groups:
    """Each element's group, the groups in ascending order of their keys as text.

    Attributes
    ----------
    row
        Per element, the position of its group in *keys*; -1 for a missing key
        (such elements are in no group).
    keys
        The groups' keys as text, ascending.
    """

    row: np.ndarray
    keys: np.ndarray

    @cached_property
    def _known(self) -> np.ndarray | None:
        """Where an element has a group; None when all have one (no masking needed)."""
        known = self.row >= 0
        return None if known.all() else known

    def sum(self, values: np.ndarray | pd.Series) -> np.ndarray:
        """Per group, the sum of *values* (floats) over its elements.

        Parameters
        ----------
        values
            One value per element.

        Returns
        -------
        numpy.ndarray
            One float per group, in the order of :attr:`keys`.
        """
        weights, row = np.asarray(values, dtype=np.float64), self.row
        if self._known is not None:
            weights, row = weights[self._known], row[self._known]
        return np.bincount(row, weights=weights, minlength=len(self.keys))

    def sum_by(self, category: np.ndarray, n: int, values: np.ndarray | pd.Series) -> np.ndarray:
        """Per group and category, the sum of *values*: one pass for all categories.

        Parameters
        ----------
        category
            Per element, its category in ``0 .. n-1``, or -1 for none (not summed).
        n
            Number of categories.
        values
            One value per element.

        Returns
        -------
        numpy.ndarray
            Shape ``(len(keys), n)``: row *g*, column *c* sums the values of
            the elements of group *g* and category *c*.

        Examples
        --------
        >>> g = groups_of(np.array(["b", "a", "b", "b"], dtype=object))
        >>> g.sum_by(np.array([0, 1, -1, 1]), 2, np.array([1.0, 2.0, 4.0, 8.0])).tolist()
        [[0.0, 2.0], [1.0, 8.0]]
        """
        at = np.asarray(category, dtype=np.intp)
        cell = np.where((self.row >= 0) & (at >= 0), self.row * n + at, -1)
        counted = cell >= 0
        weights = np.asarray(values, dtype=np.float64)[counted]
        sums = np.bincount(cell[counted], weights=weights, minlength=len(self.keys) * n)
        return sums.reshape(len(self.keys), n)


def groups_of(keys: pd.Series | np.ndarray | Sequence[object]) -> Groups:
    """The groups of *keys*: elements with equal keys together, groups sorted as text.

    Parameters
    ----------
    keys
        One key per element; missing keys (None, NaN, NA) are in no group.
        A Series of Arrow text is factorized without leaving Arrow.

    Returns
    -------
    Groups
        The group of every element.

    Examples
    --------
    >>> g = groups_of(pd.Series(["430422", "430421", None, "430422"], dtype="str"))
    >>> g.keys.tolist(), g.row.tolist(), g.sum(np.array([1.0, 2.0, 4.0, 8.0])).tolist()
    (['430421', '430422'], [1, 0, -1, 1], [2.0, 9.0])
    """
    values = keys if isinstance(keys, pd.Series) else np.asarray(keys, dtype=object)
    codes, found = pd.factorize(values)  # -1 for a missing key
    names = np.asarray(found, dtype=object).astype(str)
    order = np.argsort(names, kind="stable")
    rank = np.empty(len(order) + 1, dtype=np.intp)
    rank[order] = np.arange(len(order))
    rank[-1] = -1  # codes of -1 (missing) stay -1
    return Groups(rank[codes], names[order])
