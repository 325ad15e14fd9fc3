"""Load a landplan output layer in real QGIS, report what a QGIS user sees, render it.

Runs under the system Python that has PyQGIS (``/usr/bin/python3``), not the
project's virtual environment:

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 inspect_layer.py OUT.gpkg parcels OUT.png

Prints one JSON object: the renderer of the default style and its categories
(or its rules, each with the number of features QGIS finds by its filter),
the field aliases, the styles stored in the GeoPackage, and the rules of the
recovery-priority style once applied.
"""

import json
import sys

from qgis.core import (
    QgsApplication,
    QgsFeatureRequest,
    QgsMapRendererSequentialJob,
    QgsMapSettings,
    QgsVectorLayer,
)
from qgis.PyQt.QtCore import QSize
from qgis.PyQt.QtGui import QColor
from qgis.PyQt.QtXml import QDomDocument


def describe_renderer(layer):
    renderer = layer.renderer()
    out = {"type": renderer.type()}
    if renderer.type() == "categorizedSymbol":
        out["field"] = renderer.classAttribute()
        out["categories"] = [
            {"value": c.value(), "label": c.label(), "colour": c.symbol().color().name()}
            for c in renderer.categories()
        ]
    elif renderer.type() == "RuleRenderer":
        out["rules"] = [
            {
                "label": r.label(),
                "filter": r.filterExpression(),
                "colour": r.symbol().color().name(),
                "features": sum(
                    1
                    for _ in layer.getFeatures(
                        QgsFeatureRequest().setFilterExpression(r.filterExpression())
                    )
                ),
            }
            for r in renderer.rootRule().children()
        ]
    return out


def render(layer, png):
    settings = QgsMapSettings()
    settings.setLayers([layer])
    settings.setExtent(layer.extent())
    settings.setOutputSize(QSize(400, 400))
    settings.setBackgroundColor(QColor(255, 255, 255))
    job = QgsMapRendererSequentialJob(settings)
    job.start()
    job.waitForFinished()
    job.renderedImage().save(png, "png")


def main():
    path, layer_name, png = sys.argv[1:4]
    app = QgsApplication([], False)
    app.setPrefixPath("/usr", True)
    app.initQgis()
    uri = f"{path}|layername={layer_name}" if path.endswith(".gpkg") else path
    layer = QgsVectorLayer(uri, layer_name, "ogr")
    report = {"valid": layer.isValid(), "features": layer.featureCount()}
    report["renderer"] = describe_renderer(layer)
    report["aliases"] = {f.name(): layer.attributeAlias(i) for i, f in enumerate(layer.fields())}
    render(layer, png)
    count, ids, names, _descriptions, _error = layer.listStylesInDatabase()
    report["styles"] = list(names)[:count] if count > 0 else []
    for style_id, name in zip(ids, names, strict=False):
        if "recovery" in name:
            qml, _error = layer.getStyleFromDatabase(style_id)
            doc = QDomDocument()
            doc.setContent(qml)
            layer.importNamedStyle(doc)
            report["recovery_renderer"] = describe_renderer(layer)
    print(json.dumps(report, ensure_ascii=False), flush=True)
    del layer  # layers must go before the application, or exitQgis() crashes
    app.exitQgis()


if __name__ == "__main__":
    main()
