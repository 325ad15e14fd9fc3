"""Running the installed ``landplan`` command from QGIS.

QGIS runs its own Python, which usually lacks landplan's dependencies, so the
algorithms run the ``landplan`` executable of the environment where landplan
is installed: ``LANDPLAN_EXECUTABLE`` if set, else ``landplan`` on PATH.
Its log streams into the Processing log; cancelling stops it.
"""

import functools
import json
import os
import queue
import shutil
import subprocess
import threading

from qgis.core import QgsProcessingException

# QGIS's own settings for its Python and its GDAL/PROJ data would be wrong for the
# environment landplan runs in (which finds its own); GDAL_PAM_ENABLED=NO keeps GDAL
# from writing .aux.xml files beside the inputs.
_DROPPED = ("PYTHONPATH", "PYTHONHOME", "PROJ_LIB", "PROJ_DATA", "GDAL_DATA", "GDAL_DRIVER_PATH")
_ADDED = {"GDAL_PAM_ENABLED": "NO", "PYTHONIOENCODING": "utf-8"}


def landplan_executable():
    exe = os.environ.get("LANDPLAN_EXECUTABLE") or shutil.which("landplan")
    if not exe:
        raise QgsProcessingException(
            "The landplan command-line tool was not found. Install it (pip install landplan) "
            "and put it on PATH, or set LANDPLAN_EXECUTABLE to its full path."
        )
    return exe


def landplan_environment():
    env = {k: v for k, v in os.environ.items() if k not in _DROPPED}
    return {**env, **_ADDED}


@functools.cache
def landplan_json(*args):
    """What ``landplan ARGS --json`` prints, as data: the installed package's own lists."""
    done = subprocess.run(
        [landplan_executable(), *args, "--json"],
        capture_output=True,
        text=True,
        encoding="utf-8",
        env=landplan_environment(),
        check=True,
    )
    return json.loads(done.stdout)


def role_names():
    """Constraint-layer roles from ``landplan roles --json``."""
    try:
        return [role["name"] for role in landplan_json("roles")]
    except (OSError, subprocess.CalledProcessError, ValueError) as exc:
        raise QgsProcessingException(f"cannot list landplan's roles: {exc}") from exc


def run_landplan(args, feedback, *, workdir, stdout_path=None):
    """Run ``landplan ARGS`` in *workdir*; stderr goes to the log, stdout to *stdout_path*.

    Returns the exit code; raises when the run is cancelled.
    """
    command = [landplan_executable(), *args]
    feedback.pushCommandInfo(subprocess.list2cmdline(command))
    # QGIS 3.22 may run Python 3.9: no parenthesised context managers
    with (
        open(stdout_path or os.devnull, "w", encoding="utf-8") as out,
        subprocess.Popen(
            command,
            stdout=out,
            stderr=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            errors="replace",
            cwd=workdir,
            env=landplan_environment(),
        ) as process,
    ):
        lines = queue.Queue()
        reader = threading.Thread(target=_read_lines, args=(process.stderr, lines), daemon=True)
        reader.start()
        while True:
            try:
                line = lines.get(timeout=0.2)
            except queue.Empty:
                line = ""
            if line is None:
                break
            if line:
                _log(feedback, line.rstrip())
            if feedback.isCanceled():
                process.terminate()
                process.wait()
                reader.join()
                raise QgsProcessingException("landplan was cancelled")
        reader.join()
        return process.wait()


def _read_lines(stream, lines):
    for line in stream:
        lines.put(line)
    lines.put(None)


def _log(feedback, line):
    if line.startswith("WARNING"):
        feedback.pushWarning(line)
    elif line.lower().startswith(("error", "critical")):
        feedback.reportError(line)
    else:
        feedback.pushInfo(line)
