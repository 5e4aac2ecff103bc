"""Settings read once from the environment; nothing else reads os.environ."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Settings:
    data_dir: Path
    database_url: str
    packs_dir: Path
    reference_dir: Path
    plan_time_zone: ZoneInfo
    secret_key: str
    log_level: str = "WARNING"
    session_cookie_secure: bool = False  # set behind HTTPS so the session cookie is never sent in clear

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> Settings:
        env = dict(os.environ if environ is None else environ)
        root = _project_root()
        data_dir = Path(env.get("BHUM_DATA_DIR", str(root / "data"))).resolve()
        database_url = env.get("BHUM_DATABASE_URL") or f"sqlite:///{data_dir / 'bhum.sqlite3'}"
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            packs_dir=Path(env.get("BHUM_PACKS_DIR", str(root / "packs"))).resolve(),
            reference_dir=Path(env.get("BHUM_REFERENCE_DIR", str(root / "reference"))).resolve(),
            plan_time_zone=ZoneInfo(env.get("BHUM_PLAN_TIME_ZONE", "America/Chicago")),
            secret_key=env.get("BHUM_SECRET_KEY", "dev-only-secret-change-me"),
            log_level=env.get("BHUM_LOG_LEVEL", "WARNING"),
            session_cookie_secure=env.get("BHUM_SESSION_COOKIE_SECURE", "").lower() in {"1", "true", "yes"},
        )


def _project_root() -> Path:
    """The checkout root (where packs/ and reference/ live) for an editable install."""
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "packs").is_dir() and (parent / "pyproject.toml").is_file():
            return parent
    return Path.cwd()
