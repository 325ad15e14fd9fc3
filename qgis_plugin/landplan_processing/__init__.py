"""QGIS plugin entry point: the landplan Processing provider."""


def classFactory(iface):  # noqa: N802 - the name QGIS calls
    from .plugin import LandplanPlugin

    return LandplanPlugin()
