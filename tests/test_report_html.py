"""report.html in a real browser: headless Chromium, driven through its DevTools protocol.

The page must show its Chinese with the CJK font landplan ships (embedded in
the page), not with whatever fonts the machine has: the browser's own report of
the fonts it used for a heading (``CSS.getPlatformFontsForNode``) proves it.
Chromium is Debian's ``chromium`` package (``make chromium``, run by ``make
test``); without it these tests skip.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

import landplan
from landplan.io.sample import load_sample
from landplan.outputs.plot import CJK_FONT_FAMILY
from landplan.outputs.report import write_report

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = pytest.mark.skipif(
    CHROMIUM is None,
    reason="Chromium is not installed (Debian: `make chromium` or apt-get install chromium)",
)
TIMEOUT_S = 20


class DevTools:
    """A minimal DevTools-protocol client over ``--remote-debugging-pipe`` (fd 3 in, fd 4 out)."""

    def __init__(self, profile: Path) -> None:
        to_browser_r, self._to_browser = os.pipe()
        self._from_browser, from_browser_w = os.pipe()

        # the child gets our pipe ends as its fd 3 (commands) and fd 4 (answers): moved
        # there before exec, and kept open as pass_fds (closing the others comes later)
        def move_fds() -> None:
            read_end, write_end = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(read_end, 3)
            os.dup2(write_end, 4)

        self.process = subprocess.Popen(
            [CHROMIUM or "chromium", "--headless", "--remote-debugging-pipe", "--no-sandbox",
             "--disable-gpu", "--no-first-run", "--no-default-browser-check",
             f"--user-data-dir={profile}", "about:blank"],
            pass_fds=(3, 4),
            preexec_fn=move_fds,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._buffer = b""
        self._id = 0

    def _read_message(self) -> dict[str, Any]:
        import select

        while b"\0" not in self._buffer:
            ready, _, _ = select.select([self._from_browser], [], [], TIMEOUT_S)
            if not ready:
                raise TimeoutError("Chromium did not answer within the timeout")
            chunk = os.read(self._from_browser, 1 << 16)
            if not chunk:
                raise ConnectionError("Chromium closed its DevTools pipe")
            self._buffer += chunk
        message, self._buffer = self._buffer.split(b"\0", 1)
        parsed: dict[str, Any] = json.loads(message)
        return parsed

    def send(self, method: str, session: str | None = None, **params: Any) -> dict[str, Any]:
        self._id += 1
        command: dict[str, Any] = {"id": self._id, "method": method, "params": params}
        if session:
            command["sessionId"] = session
        os.write(self._to_browser, json.dumps(command).encode() + b"\0")
        while True:
            message = self._read_message()
            if message.get("id") == self._id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    def wait_for(self, event: str) -> dict[str, Any]:
        while True:
            message = self._read_message()
            if message.get("method") == event:
                return message

    def close(self) -> None:
        with contextlib.suppress(OSError, RuntimeError, TimeoutError):  # already gone
            self.send("Browser.close")
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        os.close(self._to_browser)
        os.close(self._from_browser)


@pytest.fixture(scope="module")
def page(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """report.html of the sample, opened in headless Chromium: its images and fonts."""
    folder = tmp_path_factory.mktemp("report_html")
    s = load_sample()
    result = landplan.classify(s.parcels, layers=s.layers, targets=s.targets)
    gpkg = result.to_file(folder / "result.gpkg")
    html = write_report(gpkg, folder / "report").directory / "report.html"
    browser = DevTools(folder / "chromium-profile")
    try:
        target = browser.send("Target.createTarget", url="about:blank")["targetId"]
        session = browser.send("Target.attachToTarget", targetId=target, flatten=True)["sessionId"]
        browser.send("Page.enable", session)
        browser.send("Page.navigate", session, url=html.as_uri())
        browser.wait_for("Page.loadEventFired")
        evaluate = {"awaitPromise": True, "returnByValue": True}
        browser.send("Runtime.evaluate", session, expression="document.fonts.ready.then(()=>1)",
                     **evaluate)  # fmt: skip
        images = browser.send(
            "Runtime.evaluate", session, returnByValue=True,
            expression="Array.from(document.images).map(i => [i.alt, i.complete, i.naturalWidth])",
        )["result"]["value"]  # fmt: skip
        browser.send("DOM.enable", session)
        browser.send("CSS.enable", session)
        root = browser.send("DOM.getDocument", session)["root"]["nodeId"]
        fonts = {}
        for selector in ("h1", "h2", "th", "figcaption"):
            node = browser.send("DOM.querySelector", session, nodeId=root, selector=selector)
            fonts[selector] = browser.send(
                "CSS.getPlatformFontsForNode", session, nodeId=node["nodeId"]
            )["fonts"]
        text = browser.send("Runtime.evaluate", session, returnByValue=True,
                            expression="document.querySelector('h1').textContent")  # fmt: skip
    finally:
        browser.close()
    return {"images": images, "fonts": fonts, "h1": text["result"]["value"]}


def test_every_image_of_the_report_loads(page: dict[str, Any]) -> None:
    images = page["images"]
    assert len(images) == 2  # the class map and the area chart
    for alt, complete, width in images:
        assert complete and width > 0, f"image {alt!r} did not load"


@pytest.mark.parametrize("selector", ["h1", "h2", "th", "figcaption"])
def test_chinese_is_drawn_with_the_shipped_font(page: dict[str, Any], selector: str) -> None:
    fonts = page["fonts"][selector]
    # every glyph of the element comes from the font embedded in the page, none from
    # a fallback the machine happens to have (a machine without CJK fonts draws boxes)
    assert [(f["familyName"], f["isCustomFont"]) for f in fonts] == [(CJK_FONT_FAMILY, True)]
    assert fonts[0]["glyphCount"] > 0


def test_the_heading_is_chinese(page: dict[str, Any]) -> None:
    assert page["h1"].startswith("耕地保护分析报告")
