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
    # None: engine/secret_key.py makes one (embedded) or refuses to start (a server).
    secret_key: str | None
    timezone: str
    processes_dir: Path
    token_ttl_seconds: int = 12 * 3600
    max_bpmn_bytes: int = 2 * 1024 * 1024
    # E-mail for notifications: unset host means in-app notifications only.
    smtp_host: str | None = None
    smtp_port: int = 25
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str = "flowdesk@localhost"
    smtp_starttls: bool = False
    # Seconds between background rounds (embedded thread and Celery beat).
    round_seconds: float = 60.0
    # Connections the SLA sweep uses side by side on PostgreSQL.
    sweep_threads: int = 2
    # Privacy of history exports: roles that see customers' names and phones whole,
    # and the case variables that hold them.
    export_unmasked_roles: frozenset[str] = frozenset()
    personal_variables: frozenset[str] = frozenset()
    # The append-only file that witnesses the history's head outside the database
    # (engine/witness.py); None for an in-memory database.
    witness_file: Path | None = None


DEFAULT_PERSONAL_VARIABLES = (
    "customer_name,name,phone,referrer_phone,referrer_name,contact_name,contact_phone"
)


def _names(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.split(",") if part.strip())


def _default_database_url() -> str:
    var_dir = Path(os.environ.get("FLOWDESK_VAR_DIR", "var")).resolve()
    return f"sqlite:///{var_dir / 'flowdesk.db'}"


def _default_witness_file(database_url: str) -> Path | None:
    """Next to a SQLite database file; in the var folder for a server database."""
    from sqlalchemy.engine import make_url

    url = make_url(database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:":
            return None
        return Path(url.database).resolve().with_suffix(".witness.jsonl")
    var_dir = Path(os.environ.get("FLOWDESK_VAR_DIR", "var")).resolve()
    return var_dir / f"{url.database or 'flowdesk'}.witness.jsonl"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Return the settings of this process, read once from the environment."""
    database_url = os.environ.get("FLOWDESK_DATABASE_URL") or _default_database_url()
    witness = os.environ.get("FLOWDESK_WITNESS_FILE")
    return Settings(
        database_url=database_url,
        broker_url=os.environ.get("FLOWDESK_BROKER_URL") or None,
        secret_key=os.environ.get("FLOWDESK_SECRET_KEY") or None,
        timezone=os.environ.get("FLOWDESK_TIMEZONE") or "Asia/Shanghai",
        processes_dir=Path(os.environ.get("FLOWDESK_PROCESSES_DIR") or "processes"),
        smtp_host=os.environ.get("FLOWDESK_SMTP_HOST") or None,
        smtp_port=int(os.environ.get("FLOWDESK_SMTP_PORT") or 25),
        smtp_user=os.environ.get("FLOWDESK_SMTP_USER") or None,
        smtp_password=os.environ.get("FLOWDESK_SMTP_PASSWORD") or None,
        smtp_from=os.environ.get("FLOWDESK_SMTP_FROM") or "flowdesk@localhost",
        smtp_starttls=os.environ.get("FLOWDESK_SMTP_STARTTLS", "").lower() in ("1", "true", "yes"),
        round_seconds=float(os.environ.get("FLOWDESK_ROUND_SECONDS") or 60),
        sweep_threads=int(os.environ.get("FLOWDESK_SWEEP_THREADS") or 2),
        export_unmasked_roles=_names(os.environ.get("FLOWDESK_EXPORT_UNMASKED_ROLES", "")),
        personal_variables=_names(
            os.environ.get("FLOWDESK_PERSONAL_VARIABLES") or DEFAULT_PERSONAL_VARIABLES
        ),
        witness_file=Path(witness) if witness else _default_witness_file(database_url),
    )
