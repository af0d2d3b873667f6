"""Error bodies: every 4xx answers `{"detail": ...}` (CONTRACT.md "Errors").

The exception handlers in api/app.py build the bodies from these classes, and
`error_responses()` documents them on the routes, so the two cannot drift apart.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class ErrorResponse(BaseModel):
    """A refused request: 401, 403, 404, 409 (400 for an unmapped domain error)."""

    detail: str | dict[str, Any] = Field(
        description="what was wrong, in words (a conflict may answer an object with a `message`)"
    )


class FieldError(BaseModel):
    """One invalid field of a request body, form, query or path."""

    model_config = ConfigDict(extra="forbid")

    field: str = Field(description="the field's name; nested names joined with '.'")
    message: str = Field(description="what is wrong with it")


class ValidationErrorResponse(BaseModel):
    """422: the request did not validate; one item per invalid field."""

    model_config = ConfigDict(extra="forbid")

    detail: list[FieldError]


class ElementProblem(BaseModel):
    """A script, condition or decision of the process that failed while running."""

    model_config = ConfigDict(extra="forbid")

    element_id: str | None
    element_name: str | None
    message: str


class BpmnProblemRead(ElementProblem):
    """One reason a BPMN/DMN file cannot be deployed."""

    file: str | None = Field(description="the file's name")


class StepProblem(BaseModel):
    """One reason a step was refused: an invalid field of the submitted data (`field`),
    or the element whose script, condition or decision failed (`element_id`)."""

    model_config = ConfigDict(extra="forbid")

    field: str | None = Field(default=None, description="the invalid field (data problems only)")
    element_id: str | None = Field(
        default=None, description="the element that failed (process errors)"
    )
    element_name: str | None = Field(default=None, description="its name (process errors)")
    message: str


class StepErrorResponse(BaseModel):
    """422 of a step that runs the process: `{"field", "message"}` items for invalid data,
    `{"element_id", "element_name", "message"}` items when the process itself failed."""

    model_config = ConfigDict(extra="forbid")

    detail: list[StepProblem]


class DeployProblem(BaseModel):
    """One reason a file cannot be deployed (`element_id`, `element_name`, `file`), or an
    invalid field of the upload itself (`field`, e.g. no `file` part)."""

    model_config = ConfigDict(extra="forbid")

    element_id: str | None = Field(
        default=None, description="the faulty element, null for the file"
    )
    element_name: str | None = None
    message: str
    file: str | None = Field(default=None, description="the file's name")
    field: str | None = Field(default=None, description="an invalid field of the upload")


class DeployErrorResponse(BaseModel):
    """422 of a deploy: every problem found in the file."""

    model_config = ConfigDict(extra="forbid")

    detail: list[DeployProblem]


_DESCRIPTIONS = {
    401: "no valid bearer token",
    403: "the caller's role may not do this",
    404: "no such thing, or not one the caller may see",
    409: "the state changed under the caller: held by someone else, no longer open",
    422: "invalid input",
    429: "too many failed sign-ins for this username from this address; wait `Retry-After`",
}
_HEADERS: dict[int, dict[str, Any]] = {
    429: {
        "Retry-After": {
            "description": "seconds until this username may sign in again from here",
            "schema": {"type": "integer"},
        }
    }
}


def error_responses(
    *statuses: int, invalid: type[BaseModel] = ValidationErrorResponse
) -> dict[int | str, dict[str, Any]]:
    """Return the `responses=` that document a route's error answers (422 as `invalid`)."""
    return {
        status: {
            "model": invalid if status == 422 else ErrorResponse,
            "description": _DESCRIPTIONS[status],
            **({"headers": _HEADERS[status]} if status in _HEADERS else {}),
        }
        for status in statuses
    }


def document_422_everywhere(document: dict[str, Any]) -> dict[str, Any]:
    """Give every operation of an OpenAPI document its 422 answer.

    Malformed text or numbers are refused before any route runs (api/input_guard.py),
    so every operation can answer 422 with `ValidationErrorResponse`, also those whose
    own parameters cannot be invalid; FastAPI's own `HTTPValidationError` (`loc`/`msg`),
    which flowdesk never answers, is taken out.
    """
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.pop("HTTPValidationError", None)
    schemas.pop("ValidationError", None)
    if "ValidationErrorResponse" not in schemas:
        schemas["ValidationErrorResponse"] = ValidationErrorResponse.model_json_schema(
            ref_template="#/components/schemas/{model}"
        )
        schemas.update(schemas["ValidationErrorResponse"].pop("$defs", {}))
    invalid = {
        "description": _DESCRIPTIONS[422],
        "content": {
            "application/json": {"schema": {"$ref": "#/components/schemas/ValidationErrorResponse"}}
        },
    }
    for operations in document.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            documented = responses.get("422", {}).get("content", {}).get("application/json", {})
            if "HTTPValidationError" in str(documented.get("schema", {})) or not documented:
                responses["422"] = invalid
    return document
