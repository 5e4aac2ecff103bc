"""Shared test settings. Suites that need a server, a browser or Spark skip locally with a reason
but must run (and fail if the thing is missing) when CI=true."""

from __future__ import annotations

import os

import pytest

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def require(condition: bool, reason: str) -> None:
    """Skip locally, fail in CI, when a mandatory dependency (server, browser, engine) is missing."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)
