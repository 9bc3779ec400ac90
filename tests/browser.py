"""Headless Chromium for tests, driven over the DevTools protocol on a pipe.

Usage::

    from browser import Chromium, find_chromium  # tests/ is on sys.path

    with Chromium(find_chromium()) as page:
        page.open(path.as_uri())
        page.eval("document.title")      # a JSON-able value back
        page.click("th[data-key=confidence]")   # a real mouse click at the element
        page.type("#filter", "rock")     # focus + text input, as a user types
        page.download_to(tmp_path)       # downloads (a[download] clicks) land there
        page.screenshot(tmp_path / "page.png")
        page.errors, page.dialogs        # uncaught exceptions, alert()/confirm() calls

``--remote-debugging-pipe`` makes Chromium read protocol messages on file
descriptor 3 and write them on 4 (JSON, each ending in a NUL byte), so no
client library and no network port are needed. ``find_chromium`` looks at
$TAGGER_CHROMIUM, then ``chromium`` (Debian's package), ``chromium-browser``
and ``google-chrome`` on PATH.
"""

from __future__ import annotations

import base64
import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

TIMEOUT = 60.0  # s for one protocol reply or one page load, on a busy 2-core machine
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--remote-debugging-pipe"]


def find_chromium() -> str | None:
    """The Chromium executable to use, or None (also when $TAGGER_CHROMIUM
    names a file that is not an executable)."""
    given = os.environ.get("TAGGER_CHROMIUM")
    if given:
        return given if os.access(given, os.X_OK) and os.path.isfile(given) else None
    for name in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None


class Chromium:
    """One headless browser with one page (a tab) of ``width`` x ``height`` CSS px."""

    def __init__(self, executable: str, width: int = 1280, height: int = 900):
        self._profile = tempfile.TemporaryDirectory(prefix="tagger-chromium-")
        to_browser_r, to_browser_w = os.pipe()
        from_browser_r, from_browser_w = os.pipe()

        def on_fds_3_and_4():  # in the child, before exec
            a, b = os.dup(to_browser_r), os.dup(from_browser_w)
            os.dup2(a, 3)
            os.dup2(b, 4)

        self._proc = subprocess.Popen(
            [executable, *FLAGS, f"--user-data-dir={self._profile.name}", "about:blank"],
            preexec_fn=on_fds_3_and_4, pass_fds=(3, 4),
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_browser_r)
        os.close(from_browser_w)
        self._out, self._in = to_browser_w, from_browser_r
        self._buffer = b""
        self._next_id = 0
        self._session = None
        self.events: list[dict] = []
        self.errors: list[str] = []  # uncaught exceptions in the page
        self.dialogs: list[str] = []  # alert() / confirm() / prompt() messages
        self._metrics_on = False
        target = self._call("Target.createTarget", {"url": "about:blank"})["targetId"]
        self._session = self._call("Target.attachToTarget",
                                   {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime"):
            self._call(f"{domain}.enable")
        self._call("Emulation.setDeviceMetricsOverride",
                   {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})

    def __enter__(self) -> "Chromium":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self._proc.poll() is None:
            try:
                self._call("Browser.close", session=False)
                self._proc.wait(10)
            except (OSError, TimeoutError, subprocess.TimeoutExpired, RuntimeError):
                self._proc.kill()
                self._proc.wait()
        os.close(self._out)
        os.close(self._in)
        self._profile.cleanup()

    def open(self, url: str) -> None:
        """Load ``url`` and wait for its load event (scripts at the end of
        the body have run by then). Clears ``errors`` and ``dialogs``."""
        self.events.clear()
        self.errors.clear()
        self.dialogs.clear()
        self._call("Page.navigate", {"url": url})
        self._wait_event("Page.loadEventFired")

    def eval(self, expression: str):
        """The value of a JavaScript expression in the page (JSON-able)."""
        reply = self._call("Runtime.evaluate", {"expression": expression, "returnByValue": True,
                                                "awaitPromise": True})
        if "exceptionDetails" in reply:
            raise RuntimeError(f"{expression}: {reply['exceptionDetails']}")
        return reply["result"].get("value")

    def click(self, selector: str) -> None:
        """A left click in the middle of the first element matching ``selector``."""
        box = self.eval(f"""(() => {{ const e = document.querySelector({json.dumps(selector)});
            e.scrollIntoView({{block: "center"}}); const r = e.getBoundingClientRect();
            return [r.x + r.width / 2, r.y + r.height / 2]; }})()""")
        for kind in ("mousePressed", "mouseReleased"):
            self._call("Input.dispatchMouseEvent", {"type": kind, "x": box[0], "y": box[1],
                                                    "button": "left", "clickCount": 1})

    def type(self, selector: str, text: str) -> None:
        """Focus the element and type ``text`` into it (one input event)."""
        self.eval(f"document.querySelector({json.dumps(selector)}).focus()")
        self._call("Input.insertText", {"text": text})

    def choose(self, selector: str, value: str) -> None:
        """Pick ``value`` in a <select>, firing its change event (which bubbles)
        as a user's choice does."""
        self.eval(f"""(() => {{ const s = document.querySelector({json.dumps(selector)});
            s.value = {json.dumps(value)}; s.dispatchEvent(new Event("change", {{bubbles: true}})); }})()""")

    def metrics(self) -> dict[str, float]:
        """The page's performance counters (Performance.getMetrics), e.g.
        ``ThreadTime``: s of CPU the page's main thread has used."""
        if not self._metrics_on:
            self._call("Performance.enable", {"timeDomain": "threadTicks"})
            self._metrics_on = True
        return {m["name"]: m["value"] for m in self._call("Performance.getMetrics")["metrics"]}

    def download_to(self, folder: str | os.PathLike) -> None:
        """Save the page's downloads (an ``a[download]`` click) into ``folder``."""
        self._call("Browser.setDownloadBehavior", {"behavior": "allow",
                                                   "downloadPath": os.fspath(folder)},
                   session=False)

    def screenshot(self, path: str | os.PathLike) -> Path:
        """A PNG of the visible part of the page."""
        data = self._call("Page.captureScreenshot", {"format": "png"})["data"]
        Path(path).write_bytes(base64.b64decode(data))
        return Path(path)

    # -- the protocol ------------------------------------------------------

    def _call(self, method: str, params: dict | None = None, session: bool = True) -> dict:
        self._next_id += 1
        call_id = self._next_id
        message = {"id": call_id, "method": method, "params": params or {}}
        if session and self._session:
            message["sessionId"] = self._session
        os.write(self._out, json.dumps(message).encode() + b"\0")
        while True:
            reply = self._receive()
            if reply.get("id") == call_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply["result"]

    def _wait_event(self, method: str) -> dict:
        while True:
            for event in self.events:
                if event["method"] == method:
                    return event
            self._receive()

    def _receive(self) -> dict:
        deadline = time.monotonic() + TIMEOUT
        while b"\0" not in self._buffer:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self._in], [], [], left)[0]:
                raise TimeoutError(f"Chromium did not answer within {TIMEOUT:.0f} s")
            chunk = os.read(self._in, 1 << 20)
            if not chunk:
                raise RuntimeError(f"Chromium exited (code {self._proc.poll()})")
            self._buffer += chunk
        raw, self._buffer = self._buffer.split(b"\0", 1)
        message = json.loads(raw)
        if "method" in message:
            self.events.append(message)
            params = message.get("params", {})
            if message["method"] == "Runtime.exceptionThrown":
                self.errors.append(params["exceptionDetails"].get("exception", {}).get(
                    "description") or params["exceptionDetails"].get("text"))
            elif message["method"] == "Page.javascriptDialogOpening":
                self.dialogs.append(params.get("message", ""))
                self._call("Page.handleJavaScriptDialog", {"accept": True})
        return message
