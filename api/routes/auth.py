"""POST /auth/token."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form

from api.auth import issue_token
from api.schemas.auth import TokenRead
from api.schemas.errors import error_responses
from engine.db import unit_of_work
from engine.identity import authenticate

router = APIRouter(tags=["auth"])


@router.post("/auth/token", responses=error_responses(401, 422))
def create_token(username: Annotated[str, Form()], password: Annotated[str, Form()]) -> TokenRead:
    """Exchange a username and password for a bearer token."""
    with unit_of_work(write=False) as session:
        user = authenticate(session, username=username, password=password)
        return TokenRead(
            access_token=issue_token(user.id), token_type="bearer", username=user.username
        )
