"""The key that signs API tokens and page sessions: never one anyone knows.

`FLOWDESK_SECRET_KEY` wins when set. Without it the embedded install (SQLite)
creates a random key in its data folder, beside the database file, readable by
its owner only and kept across restarts, so two installations never share a
key. A PostgreSQL install has no data folder of its own (several API processes
and workers on several machines must sign alike), so it refuses to run
without the variable.
"""

from __future__ import annotations

import os
import secrets
import threading
from pathlib import Path

from sqlalchemy.engine import make_url

from engine.config import get_settings
from engine.errors import FlowdeskError

KEY_FILE_NAME = "secret_key"
_MIN_KEY_CHARS = 32

_lock = threading.Lock()
_cache: dict[str, str] = {}


class MissingSecretKey(FlowdeskError):
    """No key is configured where flowdesk cannot make one itself."""


def data_folder(database_url: str) -> Path | None:
    """Return the folder of an embedded (SQLite file) database, or None for a server."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return None
    if url.database and url.database != ":memory:":
        return Path(url.database).resolve().parent
    return Path(os.environ.get("FLOWDESK_VAR_DIR", "var")).resolve()


def _read_key(path: Path) -> str | None:
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        return None
    return text if len(text) >= _MIN_KEY_CHARS else None


def _create_key_file(folder: Path) -> str:
    """Return the key kept in `folder`, creating it (0600) the first time.

    Written to a private temporary file and linked into place, so two processes
    starting at once end with one key and never read a half-written file.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / KEY_FILE_NAME
    existing = _read_key(path)
    if existing:
        return existing
    tmp = folder / f".{KEY_FILE_NAME}.{os.getpid()}.{secrets.token_hex(4)}"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as out:
            out.write(secrets.token_urlsafe(48) + "\n")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
    finally:
        tmp.unlink(missing_ok=True)
    key = _read_key(path)
    if key is None:
        raise MissingSecretKey(
            f"{path} does not hold a usable key; remove it to have a new one made, "
            "or set FLOWDESK_SECRET_KEY"
        )
    return key


def secret_key() -> str:
    """Return the signing key of this installation (see the module docstring)."""
    settings = get_settings()
    if settings.secret_key:
        return settings.secret_key
    with _lock:
        cached = _cache.get(settings.database_url)
        if cached:
            return cached
        folder = data_folder(settings.database_url)
        if folder is None:
            raise MissingSecretKey(
                "FLOWDESK_SECRET_KEY is not set: with a database server every API process "
                "and worker must sign with the same secret key; set FLOWDESK_SECRET_KEY to a "
                "long random value (e.g. `python -c 'import secrets; "
                "print(secrets.token_urlsafe(48))'`)"
            )
        key = _create_key_file(folder)
        _cache[settings.database_url] = key
        return key


def require_secret_key(command: str) -> None:
    """Refuse to start `command` (serve, worker, beat) without a usable key."""
    try:
        secret_key()
    except MissingSecretKey as exc:
        raise MissingSecretKey(f"flowdesk {command} refuses to start: {exc.message}") from None
