"""Sign-in answers."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class TokenRead(BaseModel):
    """A bearer token for `Authorization: Bearer <token>`."""

    access_token: str
    token_type: Literal["bearer"]
    username: str
