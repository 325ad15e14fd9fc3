"""Zip the Processing provider plugin for QGIS's "Install from ZIP": ``make qgis-plugin``."""

import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PLUGIN = HERE / "landplan_processing"


def package(target: Path) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for path in sorted(PLUGIN.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts:
                archive.write(path, path.relative_to(HERE).as_posix())
    return target


if __name__ == "__main__":
    print(
        package(
            Path(sys.argv[1])
            if len(sys.argv) > 1
            else HERE.parent / "dist" / "landplan_processing.zip"
        )
    )
