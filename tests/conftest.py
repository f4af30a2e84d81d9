"""Shared fixtures: the shipped world, a fixed clock, and a guard against the network."""

from __future__ import annotations

import ipaddress
import socket
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)  # a Monday, noon UTC
TODAY = date(2026, 12, 4)  # answers reviewed on 2026-12-04 must not be "in the future"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true",
                     help="rewrite the expected replies of transcript tests")


@pytest.fixture(autouse=True)
def _no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that connects anywhere but this machine (PTB's OfflineRequest idea)."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None:
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = host == "localhost"
            if not loopback:
                raise RuntimeError(f"tests must not reach the network (tried {host})")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture(scope="session")
def world():  # type: ignore[no-untyped-def]
    """The shipped flows, catalogs and directory, loaded once."""
    from bot.content.world import load_world

    loaded, errors, _ = load_world(ROOT, TODAY)
    assert loaded is not None, "\n".join(map(str, errors))
    return loaded
