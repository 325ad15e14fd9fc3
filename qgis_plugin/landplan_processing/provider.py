"""The landplan Processing provider: classify and check."""

from qgis.core import QgsProcessingProvider

from .algorithms import CheckAlgorithm, ClassifyAlgorithm, disable_gdal_pam_for_qgis_process_run


class LandplanProvider(QgsProcessingProvider):
    def id(self):
        return "landplan"

    def name(self):
        return "landplan"

    def longName(self):  # noqa: N802
        return "landplan — 耕地保护规划规则"

    def loadAlgorithms(self):  # noqa: N802
        disable_gdal_pam_for_qgis_process_run()
        self.addAlgorithm(ClassifyAlgorithm())
        self.addAlgorithm(CheckAlgorithm())

    # landplan writes GeoPackage (with its tables and styles) or shapefile outputs itself
    def supportedOutputVectorLayerExtensions(self):  # noqa: N802
        return ["gpkg", "shp"]

    def defaultVectorFileExtension(self, hasGeometry=True):  # noqa: N802, N803
        return "gpkg"

    def supportsNonFileBasedOutput(self):  # noqa: N802
        return False
