"""Fixtures of the monitor tests: the Telco parts, read once per session."""

from __future__ import annotations

import pytest

from tests.monitor.telco import TelcoParts, load_telco


@pytest.fixture(scope="session")
def telco() -> TelcoParts:
    return load_telco()
