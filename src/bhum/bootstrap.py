"""The composition root: the one place that wires real adapters into the services."""

from __future__ import annotations

from dataclasses import dataclass

from bhum.config import Settings


@dataclass(frozen=True, slots=True)
class Application:
    settings: Settings


def bootstrap(settings: Settings | None = None) -> Application:
    return Application(settings=settings or Settings.from_env())
