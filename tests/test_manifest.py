"""Run manifests: input files hashed while the run goes on, recorded as their bytes say."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from landplan.api import classify
from landplan.io.manifest import build_manifest, hash_files_ahead, run_inputs
from landplan.io.sample import sample_path


def sha256_by_hand(path: Path) -> str:
    """The manifest's digest of one file: its name, then its bytes."""
    return hashlib.sha256(path.name.encode("utf-8") + path.read_bytes()).hexdigest()


def test_classify_records_the_sha256_of_each_input_file() -> None:
    parcels, constraints = Path(sample_path("parcels")), Path(sample_path("constraints"))
    result = classify(
        parcels,
        layers={"eco_redline": f"{constraints}|layername=eco_redline"},
        targets=sample_path("targets"),
    )
    inputs = result.manifest["inputs"]
    assert inputs["parcels"]["sha256"] == sha256_by_hand(parcels)
    assert inputs["layer:eco_redline"]["sha256"] == sha256_by_hand(constraints)
    assert inputs["targets"]["sha256"] == sha256_by_hand(Path(sample_path("targets")))


def test_a_file_hashed_ahead_is_not_read_again_for_the_manifest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import landplan.io.manifest as manifest_module

    data = tmp_path / "parcels.gpkg"
    data.write_bytes(b"not really a geopackage" * 1000)
    inputs = run_inputs({"parcels": data})
    hash_files_ahead(inputs).join()

    def no_reading(*args: object, **kwargs: object) -> None:
        raise AssertionError("the manifest read a file hashed ahead")

    with monkeypatch.context() as patched:  # the module's open: its files stay unread
        patched.setattr(manifest_module, "open", no_reading, raising=False)
        manifest = build_manifest(inputs, profile_id="p", profile_sha256="0" * 64, parameters={})
    assert manifest["inputs"]["parcels"]["sha256"] == sha256_by_hand(data)
    data.write_bytes(b"changed")  # a file changed since is hashed again, not taken from before
    manifest = build_manifest(inputs, profile_id="p", profile_sha256="0" * 64, parameters={})
    assert manifest["inputs"]["parcels"]["sha256"] == sha256_by_hand(data)


def test_a_missing_file_is_left_to_the_manifest_to_report(tmp_path: Path) -> None:
    inputs = run_inputs({"parcels": tmp_path / "gone.gpkg"})
    thread = hash_files_ahead(inputs)
    thread.join()  # the thread ends without raising
    with pytest.raises(FileNotFoundError):
        build_manifest(inputs, profile_id="p", profile_sha256="0" * 64, parameters={})
