"""Bearer tokens: signed, expiring, naming the user id and the user's session epoch."""

from __future__ import annotations

import secrets

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from engine.config import get_settings
from engine.errors import NotAuthenticated
from engine.secret_key import secret_key


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret_key(), salt="flowdesk-api-token")


def issue_token(user_id: int, epoch: int = 0) -> str:
    """Return a bearer token for the user, of the user's current session epoch."""
    # The nonce makes every token distinct, so a cache keyed by token never mixes sessions.
    return _serializer().dumps({"uid": user_id, "e": epoch, "n": secrets.token_hex(8)})


def read_token(token: str) -> tuple[int, int]:
    """Return the user id and session epoch a token names; NotAuthenticated when it is
    invalid or expired (whether the epoch is still the user's, the caller checks)."""
    try:
        payload = _serializer().loads(token, max_age=get_settings().token_ttl_seconds)
    except SignatureExpired:
        raise NotAuthenticated("the token has expired; sign in again") from None
    except BadSignature:
        raise NotAuthenticated("invalid token") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("uid"), int):
        raise NotAuthenticated("invalid token")
    epoch = payload.get("e", 0)
    return int(payload["uid"]), epoch if isinstance(epoch, int) else -1
