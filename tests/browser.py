"""Headless Chromium (Debian's package) for tests that check HTML renders offline.

Every host name resolves to nothing, so a page that needs the network to draw
(a CDN script, a web font) fails visibly instead of passing by luck.
"""

from __future__ import annotations

import html
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND",
]


def chromium() -> str:
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.fail("chromium is missing: run scripts/install-system-deps.sh (make test does)")
    return path


def _run(page: Path, extra: list[str], budget_ms: int) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run(
            [
                chromium(),
                *FLAGS,
                f"--user-data-dir={profile}",
                f"--virtual-time-budget={budget_ms}",
                *extra,
                page.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )


def rendered_dom(page: Path, budget_ms: int = 10_000) -> str:
    """The page's DOM after its scripts ran (what a reader's browser would show)."""
    return _run(page, ["--dump-dom"], budget_ms).stdout


def screenshot(
    page: Path, png: Path, width: int = 1280, height: int = 2400, budget_ms: int = 10_000
) -> Path:
    """A PNG screenshot of the page."""
    _run(page, [f"--screenshot={png}", f"--window-size={width},{height}"], budget_ms)
    assert png.exists() and png.stat().st_size > 0, f"chromium wrote no screenshot of {page}"
    return png


PROBE_ID = "__browser_probe__"


def evaluate(page: Path, expression: str, budget_ms: int = 10_000) -> object:
    """The JSON value of a JavaScript ``expression`` evaluated in ``page`` once it has loaded.

    Headless Chromium can only dump the DOM, so a copy of the page gets a script
    that, on the ``load`` event (after every image has loaded or failed), writes
    ``JSON.stringify(expression)`` into an element of the DOM. The page itself is
    not changed; the copy sits next to it so relative links still resolve.
    """
    probe = (
        "<script>window.addEventListener('load', function () {"
        f"var out = document.createElement('pre'); out.id = '{PROBE_ID}';"
        f"out.textContent = JSON.stringify((function () {{ return {expression}; }})());"
        "document.body.appendChild(out); });</script>"
    )
    text = page.read_text(encoding="utf-8")
    marker = text.lower().rfind("</body>")
    assert marker >= 0, f"{page} has no </body>"
    with tempfile.NamedTemporaryFile(
        "w", suffix=".html", dir=page.parent, prefix=".probe-", delete=False, encoding="utf-8"
    ) as fh:
        fh.write(text[:marker] + probe + text[marker:])
        copy = Path(fh.name)
    try:
        dom = rendered_dom(copy, budget_ms)
    finally:
        copy.unlink()
    found = re.search(rf'<pre id="{PROBE_ID}">(.*?)</pre>', dom, re.S)
    assert found, f"the probe script did not run in {page} (load event never fired?)"
    return json.loads(html.unescape(found.group(1)))
