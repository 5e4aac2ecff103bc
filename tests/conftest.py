"""Shared test settings. Suites that need a server, a browser or Spark skip locally with a reason
but must run (and fail if the thing is missing) when CI=true."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Skip locally, fail in CI, when a mandatory dependency (server, browser, engine) is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


def shared_dir() -> Path:
    """The shared specification tree (seeds, spec, fixtures): beside the checkout, as CI lays it out."""
    beside = Path(__file__).resolve().parents[2] / "shared"
    return beside if beside.is_dir() else Path("/work/shared")


def shared_fixtures(pattern: str) -> list[Path]:
    """Sample files under shared/fixtures; an empty match is an error, never a silently empty test."""
    found = sorted((shared_dir() / "fixtures").glob(pattern))
    if not found:
        raise FileNotFoundError(f"no shared fixtures match {pattern!r} under {shared_dir() / 'fixtures'}")
    return found
