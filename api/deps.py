"""Request dependencies: the current actor and the caller's language."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import read_token
from engine import access, signin
from engine.errors import NotAuthenticated
from engine.identity import Actor

_bearer = HTTPBearer(auto_error=False)

# Who a token stands for, remembered briefly: a request then needs only the check that
# the user is still active and the token's session epoch still theirs (one primary-key
# SELECT). A changed role takes effect within ACTOR_CACHE_SECONDS.
ACTOR_CACHE_SECONDS = 30.0
_ACTOR_CACHE_SIZE = 10_000
_actors: OrderedDict[str, tuple[float, Actor]] = OrderedDict()
_actors_lock = threading.Lock()


def _cached_actor(token: str) -> Actor | None:
    with _actors_lock:
        hit = _actors.get(token)
        if hit is None or hit[0] < time.monotonic():
            return None
        return hit[1]


def _remember_actor(token: str, actor: Actor) -> None:
    with _actors_lock:
        _actors[token] = (time.monotonic() + ACTOR_CACHE_SECONDS, actor)
        while len(_actors) > _ACTOR_CACHE_SIZE:
            _actors.popitem(last=False)


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def current_actor(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """Return the actor named by the bearer token; 401 without a valid one.

    Read-only actors (auditors) get 403 on every mutating method, whatever the
    route: they are refused here, before the request body is even read.
    """
    actor = _token_actor(credentials)
    if request.method not in SAFE_METHODS:
        access.require_writer(actor)
    return actor


def _token_actor(credentials: HTTPAuthorizationCredentials | None) -> Actor:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("send Authorization: Bearer <token>")
    token = credentials.credentials
    user_id, epoch = read_token(token)  # checks signature and expiry on every request
    cached = _cached_actor(token)
    if cached is not None:
        # One primary-key SELECT: a deactivation or a new password ends the token at once.
        if not signin.token_epoch_ok(user_id=user_id, epoch=epoch):
            raise NotAuthenticated(_REVOKED)
        return cached
    actor = signin.token_actor(user_id=user_id, epoch=epoch)
    if actor is None:
        raise NotAuthenticated(_REVOKED)
    _remember_actor(token, actor)
    return actor


_REVOKED = "the user of this token is disabled, or signed in anew since; sign in again"


async def language(request: Request) -> str:
    """Return 'en' or 'zh-CN' from Accept-Language (zh-CN by default).

    A coroutine although it awaits nothing: FastAPI runs a plain function dependency
    in its thread pool, a hand-off each request paid for reading one header."""
    header = request.headers.get("accept-language", "")
    for part in header.split(","):
        tag = part.split(";")[0].strip().lower()
        if tag.startswith("en"):
            return "en"
        if tag.startswith("zh"):
            return "zh-CN"
    return "zh-CN"


CurrentActor = Annotated[Actor, Depends(current_actor)]
Language = Annotated[str, Depends(language)]
