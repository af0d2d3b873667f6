"""Answers serialized in the endpoint's own thread.

FastAPI validates and serializes a sync endpoint's returned model on a worker thread
of its own — one more thread hand-off per request. The hottest routes (starting an
instance, completing a task) return their model through `json_answer` instead: the
same JSON, written by the same pydantic serializer (`by_alias`, as FastAPI does), in
the thread that built it. Their `response_model` still documents the shape.
"""

from __future__ import annotations

from fastapi import Response
from pydantic import BaseModel


def json_answer(model: BaseModel, *, status_code: int = 200) -> Response:
    """`model` as the JSON answer FastAPI would have written for it."""
    return Response(
        content=model.model_dump_json(by_alias=True),
        media_type="application/json",
        status_code=status_code,
    )
