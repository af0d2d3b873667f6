"""Request dependencies: the current actor and the caller's language."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from api.auth import read_token
from engine.db import unit_of_work
from engine.errors import NotAuthenticated
from engine.identity import Actor, actor_for
from engine.models import User

_bearer = HTTPBearer(auto_error=False)


def current_actor(
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Actor:
    """Return the actor named by the bearer token; 401 without a valid one."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise NotAuthenticated("send Authorization: Bearer <token>")
    user_id = read_token(credentials.credentials)
    with unit_of_work(write=False) as session:
        user = session.get(User, user_id)
        if user is None or not user.is_active:
            raise NotAuthenticated("the user of this token no longer exists or is disabled")
        return actor_for(user)


def language(request: Request) -> str:
    """Return 'en' or 'zh-CN' from Accept-Language (zh-CN by default)."""
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
