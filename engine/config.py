"""Settings read from the environment (CONTRACT.md names them)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True)
class Settings:
    database_url: str
    broker_url: str | None
    secret_key: str
    timezone: str
    processes_dir: Path
    token_ttl_seconds: int = 12 * 3600
    max_bpmn_bytes: int = 2 * 1024 * 1024


def _default_database_url() -> str:
    var_dir = Path(os.environ.get("FLOWDESK_VAR_DIR", "var")).resolve()
    return f"sqlite:///{var_dir / 'flowdesk.db'}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings of this process, read once from the environment."""
    return Settings(
        database_url=os.environ.get("FLOWDESK_DATABASE_URL") or _default_database_url(),
        broker_url=os.environ.get("FLOWDESK_BROKER_URL") or None,
        secret_key=os.environ.get("FLOWDESK_SECRET_KEY") or "flowdesk-dev-secret-change-me",
        timezone=os.environ.get("FLOWDESK_TIMEZONE") or "Asia/Shanghai",
        processes_dir=Path(os.environ.get("FLOWDESK_PROCESSES_DIR") or "processes"),
    )
