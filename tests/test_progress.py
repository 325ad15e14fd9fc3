"""Progress and logs on stderr: a line per stage, counts that add up, -q and -v."""

from __future__ import annotations

import io
import logging
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from landplan.cli import main
from landplan.core import progress
from landplan.core.progress import PREFIX, Reporter, StageProgress
from landplan.core.timing import record_stages, stage
from landplan.io.sample import load_sample, sample_path

STAGE_LINE = re.compile(rf"^{re.escape(PREFIX)}(?P<name>[^:]+?)(?:: (?P<count>[\d,]+) \w+)? in ")


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """Each CLI run configures logging; put the loggers back as they were."""
    root, own = logging.getLogger(), logging.getLogger("landplan")
    handlers, levels = list(root.handlers), (root.level, own.level)
    yield
    for handler in root.handlers:
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(levels[0])
    own.setLevel(levels[1])
    logging.captureWarnings(False)
    progress._REPORTER = None
    progress._HANDLER = None
    progress._SETTINGS = None


def classify(tmp_path: Path, *options: str, engine: tuple[str, ...] = ()) -> Result:
    sample = Path(sample_path("parcels")).parent
    args = [
        *options,
        "classify",
        str(sample / "parcels.gpkg"),
        "-o",
        str(tmp_path / "out.gpkg"),
        "--layer",
        f"eco_redline={sample / 'constraints.gpkg'}|layername=eco_redline",
        "--targets",
        str(sample / "targets.csv"),
        *engine,
    ]
    run = CliRunner().invoke(main, args)
    assert run.exit_code == 0, run.output
    return run


def stage_lines(stderr: str) -> list[re.Match[str]]:
    return [m for line in stderr.splitlines() if (m := STAGE_LINE.match(line))]


def test_quiet_writes_nothing_on_stderr(tmp_path: Path) -> None:
    run = classify(tmp_path, "-q")
    assert run.stderr == ""


def test_quiet_shows_no_progress_and_no_warnings(tmp_path: Path) -> None:
    run = classify(tmp_path, "-q")
    assert not stage_lines(run.stderr)
    assert "WARNING" not in run.stderr and "INFO" not in run.stderr


def test_one_line_per_stage_without_a_terminal(tmp_path: Path) -> None:
    with record_stages() as seconds:
        run = classify(tmp_path)
    lines = stage_lines(run.stderr)
    assert "\r" not in run.stderr  # no live line when stderr is not a terminal
    names = [m["name"] for m in lines]
    # every stage block is reported once when it ends, and only those
    assert set(names) == set(seconds)
    assert names.count("read parcels") == names.count("attributes") == 1
    assert names.count("overlaps") == 1  # one stage over every constraint layer
    n_parcels = len(load_sample().parcels)
    counted = {m["name"]: int(m["count"].replace(",", "")) for m in lines if m["count"]}
    assert counted["attributes"] == counted["screen"] == n_parcels
    assert "INFO" not in run.stderr


def test_verbose_shows_landplan_info_not_pyogrio_info(tmp_path: Path) -> None:
    run = classify(tmp_path, "-v", engine=("--workers", "2"))
    info = [line for line in run.stderr.splitlines() if line.startswith("INFO ")]
    assert info and all(line.startswith("INFO landplan.") for line in info)
    assert "pyogrio" not in run.stderr  # pyogrio logs INFO "Created N records" on writing
    counties = sorted(set(load_sample().parcels["ZLDWDM"].str[:6]))
    done = [line for line in info if " done: " in line]
    n = len(counties)
    assert [line.split("county ")[1].split(" done")[0] for line in done] == [
        f"{k}/{n}" for k in range(1, n + 1)
    ]
    assert sorted(line.split("done: ")[1].split(" ")[0] for line in done) == counties
    lines = {m["name"]: m for m in stage_lines(run.stderr)}
    assert lines["counties on processes"]["count"] == str(n)


def test_the_same_message_is_shown_once_and_counted() -> None:
    progress.configure(0, False)
    stream = io.StringIO()  # the handler writes to sys.stderr as it is at the time
    log = logging.getLogger("landplan.test")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("sys.stderr", stream)
        for _ in range(4):
            log.warning("county %s has no target", "430405")
        log.warning("county %s has no target", "430406")
        log.info("not shown without -v")
        progress.finish()
    lines = stream.getvalue().splitlines()
    assert lines == [
        "WARNING landplan.test: county 430405 has no target",
        "WARNING landplan.test: county 430406 has no target",
        "WARNING landplan.test: the message 'county 430405 has no target' "
        "was repeated 3 more time(s)",
    ]


def test_live_line_on_a_terminal_shows_counts_and_time_left() -> None:
    ticks = iter([0.0, 1.0, 2.0, 3.0, 4.0, 5.0])
    out = io.StringIO()
    reporter = Reporter(out, live=True, clock=lambda: next(ticks), interval_s=0.0)
    task = reporter.start("counties", total=4, unit="counties")  # t = 0
    task.advance()  # t = 1: 1 of 4 done in 1 s, 3 left: about 3 s
    task.advance()  # t = 2: 2 of 4 in 2 s: about 2 s left
    reporter.end(task)  # t = 3
    text = out.getvalue()
    assert "\r\x1b[Klandplan: counties …, 0.0 s" in text
    assert "1/4 counties done (25%), 1.0 s, about 3.0 s left" in text
    assert "2/4 counties done (50%), 2.0 s, about 2.0 s left" in text
    assert text.endswith("\r\x1b[Klandplan: counties: 2 counties in 3.0 s\n")


def test_a_failed_stage_leaves_no_line() -> None:
    out = io.StringIO()
    reporter = Reporter(out, live=False)
    task = reporter.start("slope")
    reporter.end(task, failed=True)
    assert out.getvalue() == ""


def test_stage_reports_to_the_active_reporter() -> None:
    out = io.StringIO()
    progress._REPORTER = Reporter(out, live=False)
    with pytest.raises(RuntimeError), stage("broken"):
        raise RuntimeError
    with stage("tiles", total=3, unit="tiles") as tiles:
        tiles.advance(2)
    assert isinstance(tiles, StageProgress)
    assert stage_lines(out.getvalue())[0]["name"] == "tiles"
    assert [(m["name"], m["count"]) for m in stage_lines(out.getvalue())] == [("tiles", "2")]


def test_no_reporter_no_output(capsys: pytest.CaptureFixture[str]) -> None:
    with stage("quiet", total=5, unit="parcels") as quiet:
        quiet.advance(5)
    assert quiet.done == 5
    assert capsys.readouterr().err == ""
