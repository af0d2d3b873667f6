"""Where task and start forms plug in: look up a form and validate submitted data.

A start event or user task without a form accepts any JSON object
(CONTRACT.md); form definitions in this folder add fields, types and rules.
"""

from __future__ import annotations

from typing import Any

from engine.errors import FieldProblem, InvalidData


def get_form(process_key: str, element_id: str) -> dict[str, Any] | None:
    """Return the form of a start event or user task, or None when it has none."""
    return None


def validate_submission(
    process_key: str, element_id: str, data: Any, *, language: str = "zh-CN"
) -> dict[str, Any]:
    """Return the data to store for a submission; InvalidData naming each bad field."""
    if not isinstance(data, dict):
        raise InvalidData([FieldProblem("variables", "must be a JSON object")])
    bad_names = [
        k for k in data if not isinstance(k, str) or not k.isidentifier() or k.startswith("_")
    ]
    if bad_names:
        raise InvalidData(
            [
                FieldProblem(str(k), "variable names must be identifiers not starting with '_'")
                for k in bad_names
            ]
        )
    form = get_form(process_key, element_id)
    if form is None:
        return dict(data)
    return dict(data)
