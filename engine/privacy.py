"""Personal data as people without the need to know see it: phones and names masked.

`mask_phone` is the one way flowdesk masks a phone number (lists, customer
pages, history exports); the `Masker` applies it, and name masking, to the
case data inside history events.
"""

from __future__ import annotations

import re
from typing import Any

from engine.config import get_settings
from engine.identity import Actor

_MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)(\d{4})(\d{4})(?!\d)")


def mask_phone(phone: str) -> str:
    """Return a phone number as lists show it to people not working the case: 138****5678."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"


def mask_text(text: str) -> str:
    """Mask every mainland mobile number in a text: 13812345678 → 138****5678."""
    return _MOBILE.sub(lambda m: mask_phone(m.group(0)), text)


def mask_name(name: str) -> str:
    """Keep a name's first character: 王小明 → 王**, Alice Chen → A*********."""
    stripped = name.strip()
    if not stripped:
        return name
    return stripped[0] + "*" * (len(stripped) - 1)


class Masker:
    """Masks customers' phone numbers and names in event data.

    Variables named in `FLOWDESK_PERSONAL_VARIABLES` are masked wherever case
    data appears (`variables`, `changes`); any mobile number in any text is
    masked too (a comment may quote one).
    """

    def __init__(self, personal: frozenset[str]) -> None:
        self.personal = personal
        self._quoted = tuple(f'"{name}"' for name in personal)

    def concerns(self, text: str) -> bool:
        """Whether an event's JSON text may hold something to mask: case data with a
        personal variable, or a mobile number anywhere."""
        if _MOBILE.search(text):
            return True
        holds_case_data = '"variables"' in text or '"changes"' in text
        return holds_case_data and any(q in text for q in self._quoted)

    def _personal(self, name: str, value: Any) -> Any:
        if isinstance(value, str):
            return mask_text(value) if _MOBILE.search(value) else mask_name(value)
        return self.value(value)

    def variables(self, values: dict[str, Any]) -> dict[str, Any]:
        """Mask a dict of case variables."""
        return {
            k: self._personal(k, v) if k in self.personal else self.value(v)
            for k, v in values.items()
        }

    def value(self, value: Any) -> Any:
        """Mask mobile numbers anywhere in a JSON value."""
        if isinstance(value, str):
            return mask_text(value)
        if isinstance(value, list):
            return [self.value(v) for v in value]
        if isinstance(value, dict):
            return {k: self.value(v) for k, v in value.items()}
        return value

    def data(self, data: dict[str, Any]) -> dict[str, Any]:
        """Mask one event's data."""
        out: dict[str, Any] = {}
        for key, value in data.items():
            if key == "variables" and isinstance(value, dict):
                out[key] = self.variables(value)
            elif key == "changes" and isinstance(value, list):
                out[key] = [self._change(c) for c in value]
            else:
                out[key] = self.value(value)
        return out

    def _change(self, change: Any) -> Any:
        if not isinstance(change, dict) or change.get("name") not in self.personal:
            return self.value(change)
        return {
            **change,
            "before": self._personal(change["name"], change.get("before")),
            "after": self._personal(change["name"], change.get("after")),
        }


def export_masker(actor: Actor) -> Masker | None:
    """Return the masker for an export by this actor, or None when their role may
    see personal data (`FLOWDESK_EXPORT_UNMASKED_ROLES`)."""
    settings = get_settings()
    if actor.has(*settings.export_unmasked_roles):
        return None
    return Masker(settings.personal_variables)
