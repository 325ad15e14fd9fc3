"""landplan: farmland-protection rules of Chinese land-use plans as auditable GIS analysis.

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

__version__ = "0.1.0"

from .api import classify
from .datasets import load_sample
from .errors import InputError, LandplanError, Problem, ProfileError, ReadError
from .io import read_layer, read_parcels
from .measure import measure_parcels
from .palette import CLASS_CODES, CLASSES
from .result import Result
from .rules import Evidence, Profile, load_profile

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
    "classify",
    "load_profile",
    "load_sample",
    "measure_parcels",
    "read_layer",
    "read_parcels",
]

logging.getLogger(__name__).addHandler(logging.NullHandler())
