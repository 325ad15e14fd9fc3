"""Run the landplan algorithms on the layers of a project, as the Processing Toolbox does.

Runs under the system Python that has PyQGIS (``/usr/bin/python3``):

    QT_QPA_PLATFORM=offscreen /usr/bin/python3 run_in_project.py PROJECT.qgs PLUGINS OUT_DIR DEM

Reads the project, adds memory copies of its layers ``生态保护红线`` (named
``红线 内存``) and ``Dev_Boundary`` (named ``DEV_BOUNDARY``) as a user's scratch
layers would be, runs *landplan:classify* and *landplan:check* with
``processing.runAndLoadResults`` (what the toolbox dialog does: the outputs are
loaded into the project when the run completes; *check* is given the file DEM,
which the project does not hold) and prints one JSON object:
the command lines run and every layer the runs added to the project, with its
feature count and renderer.
"""

import json
import sys

from qgis.core import (
    QgsApplication,
    QgsFeatureRequest,
    QgsProcessingFeedback,
    QgsProject,
)


class Feedback(QgsProcessingFeedback):
    def __init__(self):
        super().__init__()
        self.commands = []

    def pushCommandInfo(self, info):  # noqa: N802 - the name QGIS calls
        self.commands.append(info)


def memory_copy(project, name, new_name):
    layer = project.mapLayersByName(name)[0].materialize(QgsFeatureRequest())
    layer.setName(new_name)
    project.addMapLayer(layer)
    return layer


def describe(layer):
    renderer = layer.renderer()
    out = {
        "source": layer.source(),
        "features": layer.featureCount(),
        "with_geometry": sum(1 for f in layer.getFeatures() if f.hasGeometry()),
        "renderer": renderer.type(),
    }
    if renderer.type() == "categorizedSymbol":
        out["field"] = renderer.classAttribute()
        out["categories"] = [[c.value(), c.label()] for c in renderer.categories()]
    return out


def main():
    project_path, plugins, out_dir, dem = sys.argv[1:5]
    app = QgsApplication([], False)
    app.setPrefixPath("/usr", True)
    app.initQgis()
    sys.path[:0] = [plugins, "/usr/share/qgis/python/plugins"]
    import processing  # importable only once QGIS runs
    from processing.core.Processing import Processing

    Processing.initialize()
    import landplan_processing

    plugin = landplan_processing.classFactory(None)
    plugin.initProcessing()

    project = QgsProject.instance()
    project.read(project_path)
    before = set(project.mapLayers())
    parcels = project.mapLayersByName("地块 DLTB")[0]
    redline = memory_copy(project, "生态保护红线", "红线 内存")
    boundary = memory_copy(project, "Dev_Boundary", "DEV_BOUNDARY")
    feedback = Feedback()
    classified = processing.runAndLoadResults(
        "landplan:classify",
        {
            "PARCELS": parcels.id(),
            "ECO_REDLINE": redline.id(),
            "LAYERS": [boundary.id()],
            "OUTPUT": f"{out_dir}/classes.gpkg",
        },
        feedback=feedback,
    )
    checked = processing.runAndLoadResults(
        "landplan:check",
        {"PARCELS": parcels.id(), "DEM": dem, "FAIL_ON": "info", "OUTPUT": "TEMPORARY_OUTPUT"},
        feedback=feedback,
    )
    added = {
        layer.name(): describe(layer)
        for layer_id, layer in project.mapLayers().items()
        if layer_id not in before | {redline.id(), boundary.id()}
    }
    report = {
        "commands": feedback.commands,
        "results": [classified, checked],
        "added": added,
    }
    print(json.dumps(report, ensure_ascii=False, default=str), flush=True)
    project.clear()  # layers must go before the application, or exitQgis() crashes
    plugin.unload()
    app.exitQgis()


if __name__ == "__main__":
    main()
