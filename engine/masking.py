"""Masking a phone number for people who do not work the case."""

from __future__ import annotations


def mask_phone(phone: str) -> str:
    """Return a phone number as lists show it to people not working the case: 138****5678."""
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 8 else "****"
