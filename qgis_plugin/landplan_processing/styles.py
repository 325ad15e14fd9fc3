"""Styling the output layers once Processing has added them to the project.

The classified parcels carry landplan's own style (the default style stored in
the GeoPackage, or the ``.qml`` beside a shapefile), which Processing does not
load by itself; the findings get a style by severity.
"""

from qgis.core import (
    QgsCategorizedSymbolRenderer,
    QgsFillSymbol,
    QgsProcessingContext,
    QgsProcessingLayerPostProcessorInterface,
    QgsProcessingUtils,
    QgsRendererCategory,
)

#: Severity, label, fill colour (RGBA) of the findings layer.
FINDING_STYLE = (
    ("error", "错误 error", "215,25,28,160"),
    ("warning", "警告 warning", "253,174,97,160"),
    ("info", "提示 info", "44,123,182,160"),
)


def apply_landplan_style(layer):
    """The default style landplan stored with the layer (GeoPackage or .qml)."""
    message, ok = layer.loadDefaultStyle()
    if not ok:
        raise RuntimeError(f"landplan's style could not be loaded: {message}")


def apply_findings_style(layer):
    categories = [
        QgsRendererCategory(
            value,
            QgsFillSymbol.createSimple(
                {"color": colour, "outline_color": "60,60,60,255", "outline_width": "0.2"}
            ),
            label,
        )
        for value, label, colour in FINDING_STYLE
    ]
    layer.setRenderer(QgsCategorizedSymbolRenderer("severity", categories))
    layer.triggerRepaint()


class StyleOnLoad(QgsProcessingLayerPostProcessorInterface):
    """Applies *style* to the layer Processing loads; QGIS holds only a pointer to it."""

    _alive = []  # noqa: RUF012 - the instances QGIS will call, kept alive here

    def __init__(self, style):
        super().__init__()
        self._style = style

    def postProcessLayer(self, layer, context, feedback):  # noqa: N802 - the name QGIS calls
        try:
            self._style(layer)
        except RuntimeError as exc:
            feedback.reportError(str(exc))
        if self in StyleOnLoad._alive:
            StyleOnLoad._alive.remove(self)

    @classmethod
    def create(cls, style):
        instance = cls(style)
        cls._alive.append(instance)
        return instance


def load_styled_on_completion(context, destination, uri, style):
    """Load *uri* instead of *destination* when the run completes (if it was asked), styled.

    Processing would load the destination file itself: for a GeoPackage of
    several layers and tables that is not the right layer, and it would not be
    styled.
    """
    if not context.willLoadLayerOnCompletion(destination):
        return
    layers = context.layersToLoadOnCompletion()
    asked = layers.pop(destination)
    details = QgsProcessingContext.LayerDetails(
        asked.name, asked.project, asked.outputName, QgsProcessingUtils.LayerHint.Vector
    )
    details.forceName = asked.forceName
    details.setPostProcessor(StyleOnLoad.create(style))
    layers[uri] = details
    context.setLayersToLoadOnCompletion(layers)
