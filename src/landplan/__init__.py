"""landplan: farmland-protection rules of Chinese land-use plans as auditable GIS analysis.

The package is layered in the order data flows; a module imports only from its
own layer or the layers before it:

``core`` (errors, units, roles, palette) → ``survey`` (三调 schema) → ``io``
(files in and out) → ``measure`` (areas, overlaps, slope) → ``rules``
(profiles, evidence) → ``allocate`` (priorities, quotas, classes) →
``outputs`` (tables, charts, result) → ``engines`` (pipeline, processes, Dask)
→ ``audit`` (``landplan check``) → ``synthetic`` (test data) → ``api`` →
``cli``.

Examples
--------
>>> import landplan
>>> sample = landplan.load_sample()
>>> result = landplan.classify(sample.parcels, layers=sample.layers, targets=sample.targets)
>>> result.parcels["lp_class"].isin(landplan.CLASS_CODES).all()
np.True_
"""

from __future__ import annotations

import logging

from landplan.api import balance, classify, classify_partitioned, partition_parcels
from landplan.core.errors import InputError, LandplanError, Problem, ProfileError, ReadError
from landplan.core.palette import CLASS_CODES, CLASSES
from landplan.core.version import __version__
from landplan.io.layers import read_layer, read_parcels
from landplan.io.sample import load_sample
from landplan.measure.parcels import measure_parcels
from landplan.outputs.result import Result
from landplan.rules import Evidence, Profile, load_profile

__all__ = [
    "CLASSES",
    "CLASS_CODES",
    "Evidence",
    "InputError",
    "LandplanError",
    "Problem",
    "Profile",
    "ProfileError",
    "ReadError",
    "Result",
    "__version__",
    "balance",
    "classify",
    "classify_partitioned",
    "load_profile",
    "load_sample",
    "measure_parcels",
    "partition_parcels",
    "read_layer",
    "read_parcels",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
