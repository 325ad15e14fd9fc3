"""Processing algorithms that run the installed landplan command on layers of QGIS.

Inputs are layers: of the open project or files, exported to a temporary
GeoPackage when landplan cannot read them as they are (memory layers, layers
with a filter, selected features only).  landplan runs in a temporary folder
of Processing, so nothing is written beside the inputs; the outputs are added
to the map styled.
"""

import contextlib
import os
import shutil
import tempfile

from qgis.core import (
    QgsApplication,
    QgsProcessing,
    QgsProcessingAlgorithm,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterDefinition,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFeatureSource,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterMatrix,
    QgsProcessingParameterMultipleLayers,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterVectorDestination,
    QgsProcessingUtils,
    QgsProperty,
    QgsProviderRegistry,
    QgsRasterLayer,
)

from .catalog import (
    COMPATIBLE_FORMATS,
    MAIN_ROLES,
    PROFILES,
    SEVERITIES,
    RoleError,
    assign_roles,
    parse_destination,
    parse_role_table,
)
from .runner import role_names, run_landplan
from .styles import apply_findings_style, apply_landplan_style, load_styled_on_completion

PARCELS, DEM, LAYERS, ROLE_TABLE = "PARCELS", "DEM", "LAYERS", "ROLE_TABLE"
PROFILE, PROFILE_FILE, OUTPUT = "PROFILE", "PROFILE_FILE", "OUTPUT"
#: Layers landplan takes as the parcels of a multi-layer file (``landplan.io.layers``).
PARCEL_LAYER_NAMES = ("DLTB", "地类图斑")


def _advanced(parameter):
    parameter.setFlags(parameter.flags() | QgsProcessingParameterDefinition.FlagAdvanced)
    return parameter


def add_input_parameters(algorithm):
    """Parcels, DEM, the main roles, other constraint layers, the profile: as both share them."""
    algorithm.addParameter(
        QgsProcessingParameterFeatureSource(
            PARCELS, "三调 parcels (地类图斑 DLTB)", [QgsProcessing.TypeVectorPolygon]
        )
    )
    algorithm.addParameter(QgsProcessingParameterRasterLayer(DEM, "DEM", optional=True))
    for name, _role, label in MAIN_ROLES:
        algorithm.addParameter(
            QgsProcessingParameterFeatureSource(
                name, label, [QgsProcessing.TypeVectorPolygon], optional=True
            )
        )
    algorithm.addParameter(
        QgsProcessingParameterMultipleLayers(
            LAYERS,
            "Other constraint layers (each named after its role, e.g. river_lake, "
            "or given a role in the role table)",
            QgsProcessing.TypeVectorPolygon,
            optional=True,
        )
    )
    algorithm.addParameter(
        _advanced(
            QgsProcessingParameterMatrix(
                ROLE_TABLE,
                "Role table: the role of each other constraint layer whose name is not a role",
                hasFixedNumberRows=False,
                headers=["Layer name", "Role"],
                optional=True,
            )
        )
    )
    algorithm.addParameter(
        QgsProcessingParameterEnum(
            PROFILE,
            "Rule profile",
            list(PROFILES),
            defaultValue=PROFILES[0],
            usesStaticStrings=True,
        )
    )
    algorithm.addParameter(
        QgsProcessingParameterFile(
            PROFILE_FILE,
            "Rule profile file (TOML; used instead of the profile above)",
            extension="toml",
            optional=True,
        )
    )


def _set_gdal_pam(value):
    """Set GDAL_PAM_ENABLED for this thread; return what it was."""
    try:
        from osgeo import gdal
    except ImportError:  # QGIS without GDAL's Python bindings: nothing to switch off
        return None
    previous = gdal.GetThreadLocalConfigOption("GDAL_PAM_ENABLED", None)
    gdal.SetThreadLocalConfigOption("GDAL_PAM_ENABLED", value)
    return previous


@contextlib.contextmanager
def gdal_pam_disabled():
    """GDAL saves no .aux.xml for the rasters this thread opens within the block."""
    previous = _set_gdal_pam("NO")
    try:
        yield
    finally:
        _set_gdal_pam(previous)


def disable_gdal_pam_for_qgis_process_run():
    """In ``qgis_process run landplan:...``, GDAL saves no .aux.xml for the whole run.

    qgis_process opens a raster given as a file to check it before any algorithm
    code runs (QGIS then computes its statistics, which GDAL saves beside the
    file on closing it), so the provider switches GDAL's side files off when it
    is loaded by a qgis_process that runs a landplan algorithm: such a process
    runs that algorithm and exits, no other work is touched.  In QGIS desktop,
    :meth:`LandplanAlgorithm.checkParameterValues` does it for the checks alone.
    """
    if QgsApplication.instance() is None or QgsApplication.platform() != "qgis_process":
        return
    arguments = QgsApplication.arguments()
    if "run" in arguments and any(a.startswith("landplan:") for a in arguments):
        _set_gdal_pam("NO")


class LandplanAlgorithm(QgsProcessingAlgorithm):
    """What classify and check share: inputs as landplan options, a temporary work folder."""

    def checkParameterValues(self, parameters, context):  # noqa: N802
        # Checking the DEM opens its file as a raster layer of the run; QGIS computes its
        # statistics, and GDAL would save them beside the DEM (.aux.xml) when the run ends
        with gdal_pam_disabled():
            return super().checkParameterValues(parameters, context)

    def group(self):
        return ""

    def groupId(self):  # noqa: N802
        return ""

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        workdir = tempfile.mkdtemp(prefix="landplan_", dir=QgsProcessingUtils.tempFolder())
        try:
            return self.run_in(workdir, parameters, context, feedback)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)

    def input_options(self, parameters, context, feedback):
        """The parcels' path, then --dem, --layer and --profile options."""
        args = [
            self.parcels_file(parameters, context, feedback),
            "--profile",
            self._profile(parameters, context),
        ]
        dem = raster_source(parameters, DEM, context)
        if dem:
            args += ["--dem", dem]
        for role, source in self._layers(parameters, context, feedback).items():
            args += ["--layer", f"{role}={source}"]
        return args

    def parcels_file(self, parameters, context, feedback):
        return self._source(parameters, PARCELS, context, feedback)

    def _source(self, parameters, name, context, feedback):
        path, layer = self.parameterAsCompatibleSourceLayerPathAndLayerName(
            parameters, name, context, list(COMPATIBLE_FORMATS), "gpkg", feedback
        )
        return landplan_path(path, layer)

    def _profile(self, parameters, context):
        path = self.parameterAsFile(parameters, PROFILE_FILE, context)
        if path:
            return os.path.abspath(path)
        return self.parameterAsEnumString(parameters, PROFILE, context)

    def _layers(self, parameters, context, feedback):
        named = {}
        for name, role, _label in MAIN_ROLES:
            source = self._source(parameters, name, context, feedback)
            if source:
                named[role] = source
        listed = []
        for layer in self.parameterAsLayerList(parameters, LAYERS, context):
            path, sublayer = QgsProcessingUtils.convertToCompatibleFormatAndLayerName(
                layer, False, LAYERS, list(COMPATIBLE_FORMATS), "gpkg", context, feedback
            )
            listed.append((layer_names(layer), landplan_path(path, sublayer)))
        try:
            cells = self.parameterAsMatrix(parameters, ROLE_TABLE, context)
            table = parse_role_table([c for c in cells if not _is_null(c)])
            return assign_roles(named, listed, table, role_names() if listed else [])
        except RoleError as exc:
            raise QgsProcessingException(str(exc)) from exc


def _is_null(value):
    """None or QGIS's NULL (what an empty matrix parameter holds)."""
    return value is None or (hasattr(value, "isNull") and value.isNull())


def landplan_path(path, layer):
    """``PATH|layername=LAYER`` for a layer of a GeoPackage, else the path (or '')."""
    if not path:
        return ""
    path = os.path.abspath(path)  # landplan runs in a folder of its own
    if layer and path.lower().endswith(".gpkg"):
        return f"{path}|layername={layer}"
    return path


def layer_names(layer):
    """The names a layer may be known by: its name, id, sub-layer, file name and stem."""
    names = [layer.name(), layer.id()]
    parts = QgsProviderRegistry.instance().decodeUri(layer.providerType(), layer.source())
    if parts.get("layerName"):
        names.append(parts["layerName"])
    if parts.get("path"):
        base = os.path.basename(parts["path"])
        names += [parts["path"], base, os.path.splitext(base)[0]]
    return names


def raster_source(parameters, name, context):
    """The file of a raster parameter, without opening a file QGIS has not opened yet.

    A raster QGIS opens itself computes statistics, which GDAL then saves as an
    ``.aux.xml`` beside the file: landplan is given the path instead.
    """
    value = parameters.get(name)
    if isinstance(value, QgsProperty):
        value = value.valueAsString(context.expressionContext())
    if value is None or value == "":
        return None
    layer = value
    if not isinstance(value, QgsRasterLayer):
        layer = QgsProcessingUtils.mapLayerFromString(
            str(value), context, False, QgsProcessingUtils.LayerHint.Raster
        )
    source = layer.source() if isinstance(layer, QgsRasterLayer) else str(value)
    if not os.path.isfile(source):
        raise QgsProcessingException(
            f"the DEM must be a raster file (GeoTIFF ...) that landplan can read; got {source}"
        )
    return os.path.abspath(source)


def vector_destination(algorithm, parameters, context, *, formats):
    """The output file and its layer name (None for the default), checked against *formats*."""
    destination = algorithm.parameterAsOutputLayer(parameters, OUTPUT, context)
    path, layer = parse_destination(destination)
    path = os.path.abspath(path)
    extension = os.path.splitext(path)[1].lower().lstrip(".")
    if extension not in formats:
        raise QgsProcessingException(
            f"landplan writes {' or '.join(f.upper() for f in formats)}; "
            f"choose a .{formats[0]} file for {path}"
        )
    if layer is not None and os.path.exists(path):
        raise QgsProcessingException(
            f"{path} exists: landplan writes a whole GeoPackage (the layer, its tables and "
            "styles); choose a new file"
        )
    return destination, path, layer


class ClassifyAlgorithm(LandplanAlgorithm):
    TARGETS, SPLIT, SKIP_INVALID = "TARGETS", "SPLIT", "SKIP_INVALID"

    def name(self):
        return "classify"

    def displayName(self):  # noqa: N802
        return "Classify parcels (永久基本农田 / 储备区 / 可恢复耕地)"

    def shortHelpString(self):  # noqa: N802
        return (
            "Classifies 三调 land parcels into PBF, reserve, general, non-target, recovery and "
            "other land by a rule profile, records every rule that fired (lp_reasons), fills "
            "the county PBF quotas in the plans' priority order and adds the classified "
            "parcels to the map with landplan's class style; a GeoPackage output also holds "
            "the county tables. Constraint layers: the main roles by their own parameters, "
            "any other role through 'Other constraint layers', each layer named after its "
            "role (any case) or given one in the advanced role table. Layers that are not "
            "GeoPackage or shapefile layers (memory layers, filtered layers, selected "
            "features only) are exported to a temporary GeoPackage first."
        )

    def createInstance(self):  # noqa: N802
        return ClassifyAlgorithm()

    def initAlgorithm(self, config=None):  # noqa: N802
        add_input_parameters(self)
        self.addParameter(
            QgsProcessingParameterFile(
                self.TARGETS,
                "County targets (CSV or XLSX, 万亩)",
                optional=True,
                fileFilter="County targets (*.csv *.xlsx)",
            )
        )
        self.addParameter(
            QgsProcessingParameterBoolean(
                self.SPLIT, "Cut parcels along constraint boundaries", False
            )
        )
        self.addParameter(
            _advanced(
                QgsProcessingParameterBoolean(
                    self.SKIP_INVALID,
                    "Set parcels with invalid data aside as OTHER instead of stopping",
                    False,
                )
            )
        )
        self.addParameter(
            QgsProcessingParameterVectorDestination(
                OUTPUT, "Classified parcels", QgsProcessing.TypeVectorPolygon
            )
        )

    def run_in(self, workdir, parameters, context, feedback):
        destination, path, layer = vector_destination(
            self, parameters, context, formats=("gpkg", "shp")
        )
        args = ["classify", *self.input_options(parameters, context, feedback)]
        args += ["-o", path, "--overwrite"]
        if layer is not None:
            args += ["--output-layer", layer]
        targets = self.parameterAsFile(parameters, self.TARGETS, context)
        if targets:
            args += ["--targets", os.path.abspath(targets)]
        if self.parameterAsBoolean(parameters, self.SPLIT, context):
            args.append("--split")
        if self.parameterAsBoolean(parameters, self.SKIP_INVALID, context):
            args.append("--skip-invalid")
        code = run_landplan(args, feedback, workdir=workdir)
        if code != 0:
            raise QgsProcessingException(f"landplan classify failed (exit code {code}); see log")
        uri = landplan_path(path, layer or "parcels")
        load_styled_on_completion(context, destination, uri, apply_landplan_style)
        return {OUTPUT: uri}


class CheckAlgorithm(LandplanAlgorithm):
    FAIL_ON, REPORT, FINDINGS = "FAIL_ON", "REPORT", "FINDINGS"

    def name(self):
        return "check"

    def displayName(self):  # noqa: N802
        return "Check parcels and an existing PBF layer (核实)"

    def shortHelpString(self):  # noqa: N802
        return (
            "Audits an existing PBF layer (划定不实, 质量不优, stage-P rules; give it as "
            "现状永久基本农田 pbf_existing) and validates the 三调 attributes. The findings are "
            "added to the map as a layer of the parcels they concern, coloured by severity; "
            "optionally also written as CSV (or JSON if the report ends in .json). FINDINGS "
            "is 1 when a finding is at least as severe as the chosen level, else 0."
        )

    def createInstance(self):  # noqa: N802
        return CheckAlgorithm()

    def initAlgorithm(self, config=None):  # noqa: N802
        add_input_parameters(self)
        self.addParameter(
            QgsProcessingParameterEnum(
                self.FAIL_ON,
                "Findings count from severity",
                list(SEVERITIES),
                defaultValue=SEVERITIES[-1],
                usesStaticStrings=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterVectorDestination(
                OUTPUT, "Findings", QgsProcessing.TypeVectorAnyGeometry
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.REPORT,
                "Findings report",
                "CSV (*.csv);;JSON (*.json)",
                optional=True,
                createByDefault=False,
            )
        )
        self.addOutput(
            QgsProcessingOutputNumber(
                self.FINDINGS, "Findings at least as severe as the level (0/1)"
            )
        )

    def parcels_file(self, parameters, context, feedback):
        """A file whose parcel layer landplan check finds by itself: it takes no layer name."""
        path, layer = self.parameterAsCompatibleSourceLayerPathAndLayerName(
            parameters, PARCELS, context, list(COMPATIBLE_FORMATS), "gpkg", feedback
        )
        found = (
            layer in PARCEL_LAYER_NAMES
            or len(QgsProviderRegistry.instance().querySublayers(path)) == 1
        )
        if not found:  # a layer of a multi-layer file: exported alone
            path = self.parameterAsCompatibleSourceLayerPath(
                parameters, PARCELS, context, ["gpkg"], "gpkg", feedback
            )
        return os.path.abspath(path)

    def run_in(self, workdir, parameters, context, feedback):
        destination, path, layer = vector_destination(self, parameters, context, formats=("gpkg",))
        if layer not in (None, "findings"):
            raise QgsProcessingException("the findings layer of the GeoPackage is 'findings'")
        report = self.parameterAsFileOutput(parameters, self.REPORT, context)
        report = os.path.abspath(report) if report else ""
        args = ["check", *self.input_options(parameters, context, feedback)]
        args += ["--findings-gpkg", path, "--overwrite"]
        args += ["--fail-on", self.parameterAsEnumString(parameters, self.FAIL_ON, context)]
        args.append("--json" if report.lower().endswith(".json") else "--csv")
        code = run_landplan(args, feedback, workdir=workdir, stdout_path=report or None)
        if code not in (0, 1):
            raise QgsProcessingException(f"landplan check failed (exit code {code}); see log")
        uri = landplan_path(path, "findings")
        load_styled_on_completion(context, destination, uri, apply_findings_style)
        results = {OUTPUT: uri, self.FINDINGS: code}
        if report:
            results[self.REPORT] = report
        return results


__all__ = ["CheckAlgorithm", "ClassifyAlgorithm", "disable_gdal_pam_for_qgis_process_run"]
