"""Headless Chromium (Debian's package) for tests that check HTML renders offline.

Every host name resolves to nothing, so a page that needs the network to draw
(a CDN script, a web font) fails visibly instead of passing by luck.
"""

from __future__ import annotations

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
