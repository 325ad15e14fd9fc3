"""Write a QGIS project (.qgs) holding layers of files, as an analyst's project would.

Runs under the system Python that has PyQGIS (``/usr/bin/python3``):

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 make_project.py OUT.qgs SPEC.json

SPEC is a JSON list of ``{"name": ..., "source": ..., "kind": "vector"|"raster"}``:
each layer is loaded from its file and added to the project under *name*.
Prints one JSON object: ``{name: layer id}``.
"""

import json
import sys

from qgis.core import QgsApplication, QgsProject, QgsRasterLayer, QgsVectorLayer


def main():
    target, spec = sys.argv[1:3]
    with open(spec, encoding="utf-8") as f:
        layers = json.load(f)
    app = QgsApplication([], False)
    app.setPrefixPath("/usr", True)
    app.initQgis()
    project = QgsProject.instance()
    ids = {}
    for item in layers:
        if item["kind"] == "raster":
            layer = QgsRasterLayer(item["source"], item["name"], "gdal")
        else:
            layer = QgsVectorLayer(item["source"], item["name"], "ogr")
        if not layer.isValid():
            raise SystemExit(f"cannot load {item['source']}")
        project.addMapLayer(layer)
        ids[item["name"]] = layer.id()
    if not project.write(target):
        raise SystemExit(f"cannot write {target}: {project.error()}")
    print(json.dumps(ids, ensure_ascii=False), flush=True)
    project.clear()  # layers must go before the application, or exitQgis() crashes
    app.exitQgis()


if __name__ == "__main__":
    main()
