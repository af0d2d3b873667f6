"""Operations endpoints."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel


class Health(BaseModel):
    """The server answers and its database too."""

    status: Literal["ok"]
