"""The HTTP status of each domain error, for the JSON API and the pages alike."""

from __future__ import annotations

from engine.errors import (
    Conflict,
    FlowdeskError,
    InvalidBpmn,
    InvalidData,
    NotAuthenticated,
    NotFound,
    NotPermitted,
    ProcessError,
    TooManyAttempts,
)

STATUS_BY_ERROR: tuple[tuple[type[FlowdeskError], int], ...] = (
    (InvalidBpmn, 422),
    (InvalidData, 422),
    (ProcessError, 422),
    (NotAuthenticated, 401),
    (NotPermitted, 403),
    (NotFound, 404),
    (Conflict, 409),
    (TooManyAttempts, 429),
)
# A domain error no row names (a bug to fix there) still answers as a client error.
UNMAPPED_STATUS = 400


def status_for(exc: FlowdeskError) -> int:
    """Return the HTTP status a domain error answers with."""
    return next(
        (status for cls, status in STATUS_BY_ERROR if isinstance(exc, cls)), UNMAPPED_STATUS
    )
