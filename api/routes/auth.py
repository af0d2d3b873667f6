"""POST /auth/token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request

from api.auth import issue_token
from api.schemas.auth import TokenRead
from api.schemas.errors import error_responses
from engine import signin
from engine.errors import NotAuthenticated, TooManyAttempts

router = APIRouter(tags=["auth"])


@router.post("/auth/token", responses=error_responses(401, 422, 429))
def create_token(
    request: Request, username: Annotated[str, Form()], password: Annotated[str, Form()]
) -> TokenRead:
    """Exchange a username and password for a bearer token.

    After 5 failed sign-ins for a username from one address within 15 minutes,
    that username answers 429 from there (with `Retry-After`) until they pass.
    """
    address = request.client.host if request.client else None
    result = signin.sign_in(username=username, password=password, address=address, channel="api")
    if result.retry_after is not None:
        raise TooManyAttempts(retry_after=result.retry_after)
    if result.signed_in is None:
        raise NotAuthenticated("wrong username or password")
    who = result.signed_in
    return TokenRead(
        access_token=issue_token(who.user_id, who.epoch), token_type="bearer", username=who.username
    )
