"""The parcel layer of a county run, written while the counties are classified.

The parcel layer is most of a run's output: for a city of a million parcels,
writing it takes a fifth of the run.  Written after the merge, it keeps one
core busy while the others idle; written county by county as the counties
finish, it is done by the time the last county is.

One GeoPackage layer has one writer and holds the parcels in input order, so
this works when each county's parcels are consecutive in the input (as a
survey's are, sorted by ``ZLDWDM``): the counties are then classified in
input order, and each is written as soon as it and those before it are done.
"""

from __future__ import annotations

import dataclasses

import geopandas as gpd
import numpy as np
import pandas as pd

from landplan.engines.partition import CountyPlan
from landplan.engines.pipeline import join_output, measure_columns
from landplan.io.gpkg import LayerWriter, arrow_ready
from landplan.io.layers import LayerTarget
from landplan.measure.parcels import with_layer_shares
from landplan.outputs.result import Result

__all__ = ["CountyWriter", "consecutive", "with_shares"]


def consecutive(plans: list[CountyPlan], n: int) -> list[CountyPlan] | None:
    """*plans* in input order when each county's rows are one run of the input, else None.

    Parameters
    ----------
    plans
        The counties' input rows.
    n
        Number of input rows.

    Returns
    -------
    list of CountyPlan or None
        The plans sorted by their first row, when together they are the rows
        ``0 .. n-1`` one county after another.
    """
    ordered = sorted(plans, key=lambda p: p.positions[0] if len(p.positions) else n)
    rows = np.concatenate([np.empty(0, np.int64), *(p.positions for p in ordered)])
    return ordered if len(rows) == n and bool((rows == np.arange(n)).all()) else None


def with_shares(result: Result) -> Result:
    """A county's result with its layer shares put back (the merge keeps them as they are).

    Parameters
    ----------
    result
        A county's result, its measures without the layer shares.

    Returns
    -------
    Result
        The same result, its measurement table with the shares.
    """
    table = with_layer_shares(result.measurement.table)
    return dataclasses.replace(
        result, measurement=dataclasses.replace(result.measurement, table=table)
    )


class CountyWriter:
    """Writes the counties' parcels to a new GeoPackage layer in input order, as they finish.

    Parameters
    ----------
    frame
        The input parcels.
    plans
        The counties, in input order (:func:`consecutive`).
    target
        The GeoPackage (which does not exist yet) and the layer's name.
    """

    def __init__(self, frame: gpd.GeoDataFrame, plans: list[CountyPlan], target: LayerTarget):
        self.frame = frame
        self.plans = plans
        self.target = target
        self.written = 0  # counties handed to the writer, in input order
        self.done: dict[int, Result] = {}
        self.writer: LayerWriter | None = None
        self.declined = False  # the output's columns cannot be written in batches

    def add(self, i: int, result: Result) -> None:
        """Take county *i*'s result (with its shares) and write every county now in order.

        Parameters
        ----------
        i
            The county's position in the plans.
        result
            Its result, with the layer shares (:func:`with_shares`).
        """
        if self.declined:  # the merged parcels will be written: nothing to keep
            return
        self.done[i] = result
        while self.written in self.done:
            k = self.written
            rows = _county_rows(self.frame, self.plans[k], self.done.pop(k))
            if self.writer is None:
                if not arrow_ready(rows):  # left to the write of the merged parcels
                    self.declined = True
                    self.done.clear()
                    return
                self.writer = LayerWriter(
                    self.target.path,
                    self.target.layer,
                    self.frame.geometry,
                    dataset_options={"VERSION": "1.2"},
                )
            self.writer.put(rows)
            self.written += 1

    @property
    def complete(self) -> bool:
        """Whether every county has been handed to the writer.

        Returns
        -------
        bool
            False when the output could not be written in batches (the run
            then writes the merged parcels).
        """
        return self.written == len(self.plans)

    def close(self) -> None:
        """Wait until the layer is written (raises what the write raised)."""
        if self.writer is not None:
            self.writer.close()

    def abandon(self) -> None:
        """Stop writing and remove the file: the run failed."""
        if self.writer is not None:
            self.writer.abandon()


def _county_rows(frame: gpd.GeoDataFrame, plan: CountyPlan, result: Result) -> gpd.GeoDataFrame:
    """A county's rows of the output layer: input columns, landplan's, then the measures."""
    added = pd.concat([result.parcels, measure_columns(result.measurement.table)], axis=1)
    start = int(plan.positions[0]) if len(plan.positions) else 0
    return join_output(frame.iloc[start : start + len(plan.positions)], added)
