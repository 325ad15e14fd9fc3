"""The landplan Processing provider: classify and check."""

from qgis.core import QgsProcessingProvider

from .algorithms import CheckAlgorithm, ClassifyAlgorithm


class LandplanProvider(QgsProcessingProvider):
    def id(self):
        return "landplan"

    def name(self):
        return "landplan"

    def longName(self):  # noqa: N802
        return "landplan — 耕地保护规划规则"

    def loadAlgorithms(self):  # noqa: N802
        self.addAlgorithm(ClassifyAlgorithm())
        self.addAlgorithm(CheckAlgorithm())
