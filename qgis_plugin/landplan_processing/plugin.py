"""Registers the landplan provider with the Processing registry (also in qgis_process)."""

from qgis.core import QgsApplication

from .provider import LandplanProvider


class LandplanPlugin:
    def __init__(self):
        self.provider = None

    def initProcessing(self):  # noqa: N802 - the name QGIS calls
        self.provider = LandplanProvider()
        QgsApplication.processingRegistry().addProvider(self.provider)

    def initGui(self):  # noqa: N802
        self.initProcessing()

    def unload(self):
        if self.provider is not None:
            QgsApplication.processingRegistry().removeProvider(self.provider)
            self.provider = None
