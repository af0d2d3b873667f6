"""Field types shared by the API shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import PlainSerializer, WithJsonSchema


def _iso(value: datetime) -> str:
    return value.isoformat()


# An instant, answered as ISO-8601 with its offset exactly as `datetime.isoformat()`
# writes it (`+00:00`, not pydantic's `Z`): clients compare these strings.
Instant = Annotated[
    datetime,
    PlainSerializer(_iso, return_type=str),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

LOCAL_TEXT_SCHEMA = {
    "type": "object",
    "properties": {"zh-CN": {"type": "string"}, "en": {"type": "string"}},
    "additionalProperties": {"type": "string"},
}

# A text in both languages of the product: {"zh-CN": "...", "en": "..."}.
LocalText = Annotated[dict[str, str], WithJsonSchema(LOCAL_TEXT_SCHEMA)]
