"""landplan: farmland-protection rules of Chinese land-use plans as auditable GIS analysis."""

from __future__ import annotations

import logging

__version__ = "0.1.0"

logging.getLogger(__name__).addHandler(logging.NullHandler())
