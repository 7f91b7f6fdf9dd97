"""The API docs render in headless Chromium with every host name blocked (no CDN)."""

from __future__ import annotations

import subprocess
import tempfile

import pytest

from tests import browser
from tests.support.telco import WORDS

pytestmark = pytest.mark.e2e


def dom(url: str, budget_ms: int = 15_000) -> str:
    """The DOM of a page served on loopback (127.0.0.1 needs no name resolution)."""
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        return subprocess.run(
            [
                browser.chromium(),
                # Every host name stays blocked; only the loopback address is let through.
                *(f for f in browser.FLAGS if not f.startswith("--host-resolver-rules")),
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
                f"--user-data-dir={profile}",
                f"--virtual-time-budget={budget_ms}",
                "--dump-dom",
                url,
            ],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_docs_render_offline(server, page):
    html = dom(server.url + page)
    # Rendered by the bundled Swagger UI / ReDoc from /openapi.json: operations are listed.
    assert "/predict/batch" in html, html[:2000]
    assert f"{WORDS.name} prediction service" in html
