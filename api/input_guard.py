"""Malformed input is refused at the edge, before any route runs (CONTRACT.md
"Security rules that must hold": a 4xx, never a 500).

One dependency of the whole application (api/app.py) looks at every request's path
parameters, query parameters, JSON body and form fields, and answers 422 naming the
field when text holds a NUL character (PostgreSQL cannot store one) or a lone
surrogate (no UTF-8 encoding exists for it), or when a JSON number is NaN or infinite
(JSON has no such numbers; PostgreSQL's jsonb refuses them). The routes never see
such input, so no route needs its own check.

Integer parameters are bounded where they are declared, with engine/bounds.py: an id
beyond `ROW_ID_MAX` names nothing (404), an offset or cursor beyond `QUERY_INT_MAX`
is refused (422).
"""

from __future__ import annotations

import html
import json
import math
from datetime import datetime
from typing import Annotated, Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from pydantic import AfterValidator
from starlette.datastructures import UploadFile

from engine import texts
from engine.bounds import EARLIEST_YEAR, LATEST_YEAR, instant_in_range, text_problem
from engine.errors import FieldProblem, InvalidData

# Deeper JSON than this is refused (walking it would exhaust the stack).
MAX_JSON_DEPTH = 64
# A refusal names at most this many fields.
MAX_PROBLEMS = 50

_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class MalformedInput(InvalidData):
    """Text or a number no flowdesk field can hold (422, refused before the route)."""


def text_problem_key(value: str) -> str | None:
    """Return the catalogue key of what is wrong with `value`, or None when it is fine."""
    problem = text_problem(value)
    if problem is None:
        return None
    return "problem_nul_character" if "\x00" in value else "problem_lone_surrogate"


def json_problems(value: Any, field: str = "") -> list[FieldProblem]:
    """Return the problems of a parsed JSON value: bad text in keys or strings,
    NaN or infinite numbers, nesting deeper than MAX_JSON_DEPTH (no recursion)."""
    problems: list[FieldProblem] = []
    stack: list[tuple[Any, str, int]] = [(value, field, 0)]
    while stack and len(problems) < MAX_PROBLEMS:
        item, at, depth = stack.pop()
        name = at or "body"
        if depth > MAX_JSON_DEPTH:
            problems.append(
                FieldProblem(name, key="problem_too_deep", params={"n": MAX_JSON_DEPTH})
            )
        elif isinstance(item, str):
            key = text_problem_key(item)
            if key:
                problems.append(FieldProblem(name, key=key))
        elif isinstance(item, float):
            if not math.isfinite(item):
                problems.append(FieldProblem(name, key="problem_not_finite"))
        elif isinstance(item, dict):
            for k, v in item.items():
                child = f"{at}.{k}" if at else str(k)
                key = text_problem_key(str(k))
                if key:  # the field's own name is bad: name it without its bad characters
                    problems.append(FieldProblem(_printable(child), key=key))
                    continue
                stack.append((v, child, depth + 1))
        elif isinstance(item, list):
            stack.extend((v, f"{at}.{i}" if at else str(i), depth + 1) for i, v in enumerate(item))
    problems.reverse()  # in the order of the document
    return problems


def _printable(name: str) -> str:
    return name.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\\0")


def _text_problems(pairs: list[tuple[str, Any]]) -> list[FieldProblem]:
    problems = []
    for name, value in pairs:
        key = text_problem_key(name)
        if key is None and isinstance(value, str):
            key = text_problem_key(value)
        elif key is None and isinstance(value, UploadFile) and value.filename:
            key = text_problem_key(value.filename)
        if key:
            problems.append(FieldProblem(_printable(name), key=key))
    return problems


async def _body_problems(request: Request) -> list[FieldProblem]:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in _FORM_TYPES:
        try:
            form = await request.form()  # kept on the request: the route reads the same
        except Exception:  # noqa: BLE001 - a malformed form is the route's 4xx to answer
            return []
        return _text_problems(list(form.multi_items()))
    if content_type == "application/json" or content_type.endswith("+json"):
        body = await request.body()
        if not body:
            return []
        try:
            parsed = json.loads(body)
        except RecursionError:
            return [FieldProblem("body", key="problem_too_deep", params={"n": MAX_JSON_DEPTH})]
        except ValueError:  # not JSON: FastAPI answers it
            return []
        return json_problems(parsed)
    return []


async def refuse_malformed_input(request: Request) -> None:
    """Refuse (422) a request whose text or numbers no field can hold."""
    problems = _text_problems(list(request.path_params.items()))
    problems += _text_problems(list(request.query_params.multi_items()))
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        problems += await _body_problems(request)
    if problems:
        raise MalformedInput(problems[:MAX_PROBLEMS])


def malformed_page(request: Request, exc: MalformedInput) -> HTMLResponse:
    """Answer refused input on a page route (before any page exists to show it on)."""
    language = request.cookies.get("lang") or texts.DEFAULT_LANGUAGE
    if language not in texts.LANGUAGES:
        language = texts.DEFAULT_LANGUAGE
    items = "".join(
        f"<li>{html.escape(p.field)}：{html.escape(p.text_in(language))}</li>" for p in exc.problems
    )
    title = html.escape(texts.text("invalid", language))
    body = (
        f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{title}</title></head><body><h1>{title}</h1><ul>{items}</ul></body></html>"
    )
    return HTMLResponse(body, status_code=422)


def _bounded_instant(value: datetime) -> datetime:
    if not instant_in_range(value):
        raise ValueError(f"must be between the years {EARLIEST_YEAR} and {LATEST_YEAR}")
    return value


# A date-time query parameter that time-zone arithmetic cannot overflow (422 otherwise).
Instant = Annotated[datetime, AfterValidator(_bounded_instant)]
