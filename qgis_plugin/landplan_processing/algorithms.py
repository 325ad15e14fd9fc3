"""Processing algorithms that call the installed landplan command-line tool.

QGIS runs its own Python, which usually lacks landplan's dependencies, so the
algorithms run the ``landplan`` executable of the environment where landplan
is installed: ``LANDPLAN_EXECUTABLE`` if set, else ``landplan`` on PATH.
Logs stream into the Processing log; cancelling stops the run.
"""

import functools
import json
import os
import shutil
import subprocess

from qgis.core import (
    QgsProcessingAlgorithm,
    QgsProcessingContext,
    QgsProcessingException,
    QgsProcessingOutputNumber,
    QgsProcessingParameterBoolean,
    QgsProcessingParameterEnum,
    QgsProcessingParameterFile,
    QgsProcessingParameterFileDestination,
    QgsProcessingParameterRasterLayer,
    QgsProcessingParameterString,
)

PROFILES_HINT = "hunan-hengyang, hunan-xiangtan or a TOML file"


def landplan_executable():
    exe = os.environ.get("LANDPLAN_EXECUTABLE") or shutil.which("landplan")
    if not exe:
        raise QgsProcessingException(
            "The landplan command-line tool was not found. Install it (pip install landplan) "
            "and put it on PATH, or set LANDPLAN_EXECUTABLE to its full path."
        )
    return exe


@functools.cache
def landplan_json(*args):
    """What ``landplan ARGS --json`` prints, as data: the installed package's own lists."""
    done = subprocess.run(
        [landplan_executable(), *args, "--json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        check=True,
    )
    return json.loads(done.stdout)


def severities():
    """Finding severities, least severe first, from ``landplan rules --json``."""
    return list(landplan_json("rules")["severities"])


def role_names():
    """Constraint-layer roles from ``landplan roles --json``."""
    return [role["name"] for role in landplan_json("roles")]


def _or_empty(read):
    """*read()*, or an empty list when landplan cannot be run (reported when run)."""
    try:
        return read()
    except (QgsProcessingException, OSError, subprocess.CalledProcessError, ValueError):
        return []


def run_landplan(args, feedback, stdout_path=None):
    """Run ``landplan ARGS``; stderr goes to the log, stdout to *stdout_path*; return the code."""
    command = [landplan_executable(), *args]
    feedback.pushCommandInfo(" ".join(command))
    if stdout_path is None:
        return _run(command, feedback, subprocess.DEVNULL)
    with open(stdout_path, "w", encoding="utf-8") as out:
        return _run(command, feedback, out)


def _run(command, feedback, stdout):
    process = subprocess.Popen(
        command, stdout=stdout, stderr=subprocess.PIPE, text=True, encoding="utf-8"
    )
    for line in process.stderr:
        feedback.pushInfo(line.rstrip())
        if feedback.isCanceled():
            process.terminate()
            break
    return process.wait()


def layer_options(text):
    """``ROLE=PATH`` pairs, one per line or separated by ';', as --layer options."""
    args = []
    for item in text.replace(";", "\n").splitlines():
        if item.strip():
            args += ["--layer", item.strip()]
    return args


def raster_path(algorithm, parameters, name, context):
    layer = algorithm.parameterAsRasterLayer(parameters, name, context)
    return layer.source() if layer is not None else None


class ClassifyAlgorithm(QgsProcessingAlgorithm):
    PARCELS, DEM, LAYERS, PROFILE, TARGETS, SPLIT, OUTPUT = (
        "PARCELS",
        "DEM",
        "LAYERS",
        "PROFILE",
        "TARGETS",
        "SPLIT",
        "OUTPUT",
    )

    def name(self):
        return "classify"

    def displayName(self):  # noqa: N802
        return "Classify parcels (永久基本农田 / 储备区 / 可恢复耕地)"

    def shortHelpString(self):  # noqa: N802
        return (
            "Classifies 三调 land parcels into PBF, reserve, general, non-target, recovery and "
            "other land by a rule profile, records every rule that fired (lp_reasons), fills "
            "the county PBF quotas in the plans' priority order and writes a styled GeoPackage "
            "with the county tables. Constraint layers are given as ROLE=PATH lines, e.g. "
            "eco_redline=/data/redline.shp."
        )

    def createInstance(self):  # noqa: N802
        return ClassifyAlgorithm()

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFile(self.PARCELS, "三调 parcel file (DLTB)"))
        self.addParameter(QgsProcessingParameterRasterLayer(self.DEM, "DEM", optional=True))
        roles = _or_empty(role_names)
        self.addParameter(
            QgsProcessingParameterString(
                self.LAYERS,
                "Constraint layers (ROLE=PATH per line"
                + (f"; ROLE one of {', '.join(roles)})" if roles else ")"),
                multiLine=True,
                optional=True,
            )
        )
        self.addParameter(
            QgsProcessingParameterString(
                self.PROFILE, f"Rule profile ({PROFILES_HINT})", defaultValue="hunan-hengyang"
            )
        )
        self.addParameter(
            QgsProcessingParameterFile(
                self.TARGETS, "County targets CSV", optional=True, extension="csv"
            )
        )
        self.addParameter(QgsProcessingParameterBoolean(self.SPLIT, "Split parcels", False))
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.OUTPUT, "Classified GeoPackage", "GeoPackage (*.gpkg)"
            )
        )

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        args = [
            "classify",
            self.parameterAsFile(parameters, self.PARCELS, context),
            "-o", output, "--overwrite",
            "--profile", self.parameterAsString(parameters, self.PROFILE, context),
        ]  # fmt: skip
        dem = raster_path(self, parameters, self.DEM, context)
        if dem:
            args += ["--dem", dem]
        args += layer_options(self.parameterAsString(parameters, self.LAYERS, context))
        targets = self.parameterAsFile(parameters, self.TARGETS, context)
        if targets:
            args += ["--targets", targets]
        if self.parameterAsBoolean(parameters, self.SPLIT, context):
            args.append("--split")
        code = run_landplan(args, feedback)
        if code != 0:
            raise QgsProcessingException(f"landplan classify failed (exit code {code}); see log")
        details = QgsProcessingContext.LayerDetails("landplan classes", context.project(), "")
        context.addLayerToLoadOnCompletion(f"{output}|layername=parcels", details)
        return {self.OUTPUT: output}


class CheckAlgorithm(QgsProcessingAlgorithm):
    PARCELS, PBF, DEM, PROFILE, FAIL_ON, OUTPUT = (
        "PARCELS",
        "PBF",
        "DEM",
        "PROFILE",
        "FAIL_ON",
        "OUTPUT",
    )

    def name(self):
        return "check"

    def displayName(self):  # noqa: N802
        return "Check parcels and an existing PBF layer (核实)"

    def shortHelpString(self):  # noqa: N802
        return (
            "Audits an existing PBF layer (划定不实, 质量不优, stage-P rules) and validates the "
            "三调 attributes; writes the findings as CSV (or JSON if the output ends in .json). "
            "FINDINGS is 1 when there are findings at or above the chosen level."
        )

    def createInstance(self):  # noqa: N802
        return CheckAlgorithm()

    def initAlgorithm(self, config=None):  # noqa: N802
        self.addParameter(QgsProcessingParameterFile(self.PARCELS, "三调 parcel file (DLTB)"))
        self.addParameter(QgsProcessingParameterFile(self.PBF, "Existing PBF layer", optional=True))
        self.addParameter(QgsProcessingParameterRasterLayer(self.DEM, "DEM", optional=True))
        self.addParameter(
            QgsProcessingParameterString(
                self.PROFILE, f"Rule profile ({PROFILES_HINT})", defaultValue="hunan-hengyang"
            )
        )
        levels = _or_empty(severities)
        self.addParameter(
            QgsProcessingParameterEnum(
                self.FAIL_ON,
                "Report findings at or above",
                levels,
                defaultValue=len(levels) - 1 if levels else None,
            )
        )
        self.addParameter(
            QgsProcessingParameterFileDestination(
                self.OUTPUT, "Findings", "CSV (*.csv);;JSON (*.json)"
            )
        )
        self.addOutput(
            QgsProcessingOutputNumber("FINDINGS", "Findings at or above the level (0/1)")
        )

    def processAlgorithm(self, parameters, context, feedback):  # noqa: N802
        output = self.parameterAsFileOutput(parameters, self.OUTPUT, context)
        level = severities()[self.parameterAsEnum(parameters, self.FAIL_ON, context)]
        args = [
            "check",
            self.parameterAsFile(parameters, self.PARCELS, context),
            "--profile", self.parameterAsString(parameters, self.PROFILE, context),
            "--fail-on", level,
            "--json" if output.lower().endswith(".json") else "--csv",
        ]  # fmt: skip
        pbf = self.parameterAsFile(parameters, self.PBF, context)
        if pbf:
            args += ["--layer", f"pbf_existing={pbf}"]
        dem = raster_path(self, parameters, self.DEM, context)
        if dem:
            args += ["--dem", dem]
        code = run_landplan(args, feedback, stdout_path=output)
        if code not in (0, 1):
            raise QgsProcessingException(f"landplan check failed (exit code {code}); see log")
        return {self.OUTPUT: output, "FINDINGS": code}


__all__ = ["CheckAlgorithm", "ClassifyAlgorithm"]
