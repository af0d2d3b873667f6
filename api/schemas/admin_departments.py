"""The departments as admins see and rename them."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class DepartmentRead(BaseModel):
    """A department: its code (fixed), its display names and its working calendar."""

    code: str
    name_zh: str
    name_en: str
    calendar: str = Field(description="standard, round_the_clock or sales_office")


class DepartmentList(BaseModel):
    items: list[DepartmentRead]


class DepartmentRename(BaseModel):
    """Body of PATCH /admin/departments/{code}: a name left out stays as it is."""

    model_config = ConfigDict(extra="forbid")

    name_zh: str | None = Field(None, description="1–100 characters")
    name_en: str | None = Field(None, description="1–100 characters")
