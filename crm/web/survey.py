"""The customer's survey page (`/survey/{token}`, no sign-in, phone-sized); customer
service makes the link on the case page (crm/web/survey_link.py).

The survey page is the one page without a session: the link's token authorises its
form, so it has no CSRF token (nothing of a signed-in user can be done through it) and
it answers every refusal itself, as a page with the right status — an unknown link 404,
a used or expired one 410, a bad score 422 with the form again — never the sign-in
redirect the signed-in pages answer with.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.routing import APIRoute

from api.web.kit import PageRoute, Visitor, case_number, render
from crm import surveys
from engine import texts
from engine.db import unit_of_work
from engine.errors import FlowdeskError, InvalidData, NotFound
from engine.models import Instance


class CustomerPageRoute(PageRoute):
    """A page the customer opens without signing in: refused input is answered as a
    page (the kit's rule for pages), and its form carries the link's token instead of a
    session's CSRF token."""

    def __init__(self, path: str, endpoint: Any, **kwargs: Any) -> None:
        APIRoute.__init__(self, path, endpoint, **kwargs)  # no session form to require


router = APIRouter(include_in_schema=False, route_class=CustomerPageRoute)


def _visitor(request: Request) -> Visitor:
    language = request.cookies.get("lang") or texts.DEFAULT_LANGUAGE
    if language not in texts.LANGUAGES:
        language = texts.DEFAULT_LANGUAGE
    return Visitor(request=request, language=language, csrf="")


def _survey_page(
    visitor: Visitor,
    *,
    status_code: int = 200,
    state: str = "form",
    message: str = "",
    case: str = "",
    errors: dict[str, str] | None = None,
    values: dict[str, Any] | None = None,
) -> HTMLResponse:
    response = render(
        visitor,
        "survey.html",
        status_code=status_code,
        state=state,
        message=message,
        case=case,
        errors=errors or {},
        values=values or {},
        scores=tuple(reversed(surveys.SCORES)),
    )
    response.headers["Cache-Control"] = "no-store"  # the token is in the address
    return response


def _refused(visitor: Visitor, exc: FlowdeskError) -> HTMLResponse:
    if isinstance(exc, NotFound):
        title, status = "survey_unknown_title", 404
    else:
        title, status = "survey_gone_title", 410
    return _survey_page(
        visitor, status_code=status, state=title, message=exc.text_in(visitor.language)
    )


def _guessing(visitor: Visitor) -> HTMLResponse | None:
    """The answer to an address that tried too many unknown links (429), or None."""
    client = visitor.request.client
    with unit_of_work(write=False) as session:
        wait = surveys.guessing_wait(session, client.host if client else None)
    if wait is None:
        return None
    minutes = max(1, -(-wait // 60))
    response = _survey_page(
        visitor,
        status_code=429,
        state="survey_unknown_title",
        message=visitor.t("survey_too_many_guesses", minutes=minutes),
    )
    response.headers["Retry-After"] = str(wait)
    return response


def _unknown(visitor: Visitor, exc: FlowdeskError) -> HTMLResponse:
    if isinstance(exc, NotFound):
        client = visitor.request.client
        with unit_of_work() as session:
            surveys.record_guess(session, client.host if client else None)
    return _refused(visitor, exc)


def _case_of(instance: Instance | None, visitor: Visitor) -> str:
    return case_number(visitor, instance.business_key, instance.id) if instance else ""


@router.get("/survey/{token}", response_class=HTMLResponse)
def survey_form(request: Request, token: str) -> Response:
    visitor = _visitor(request)
    refused = _guessing(visitor)
    if refused is not None:
        return refused
    try:
        with unit_of_work(write=False) as session:
            link = surveys.open_survey_link(session, token)
            case = _case_of(session.get(Instance, link.instance_id), visitor)
    except (NotFound, surveys.SurveyLinkGone) as exc:
        return _unknown(visitor, exc)
    return _survey_page(visitor, case=case)


async def _answer_fields(request: Request) -> dict[str, Any] | None:
    """Return the posted fields, or None when the body is no form Starlette reads (a
    field over its 1 MB part limit, a broken encoding)."""
    try:
        form = await request.form()
    except Exception:  # noqa: BLE001 - answered as 413 by the route
        return None
    return {name: form.get(name) for name in form}


@router.post("/survey/{token}", response_class=HTMLResponse)
def survey_answer(
    request: Request,
    token: str,
    fields: Annotated[dict[str, Any] | None, Depends(_answer_fields)],
) -> Response:
    visitor = _visitor(request)
    if fields is None:
        return _survey_page(
            visitor,
            status_code=413,
            state="invalid",
            message=visitor.t("survey_comment_too_long", n=surveys.MAX_COMMENT),
        )
    refused = _guessing(visitor)
    if refused is not None:
        return refused
    score, comment = fields.get("score"), fields.get("comment")
    try:
        with unit_of_work() as session:
            surveys.answer_survey(session, token=token, score=score, comment=comment)
    except (NotFound, surveys.SurveyLinkGone) as exc:
        return _unknown(visitor, exc)
    except InvalidData as exc:  # nothing written: the link stays usable
        try:
            with unit_of_work(write=False) as session:
                link = surveys.open_survey_link(session, token)
                case = _case_of(session.get(Instance, link.instance_id), visitor)
        except (NotFound, surveys.SurveyLinkGone) as gone:  # answered meanwhile
            return _refused(visitor, gone)
        return _survey_page(
            visitor,
            status_code=422,
            case=case,
            errors={p.field: p.text_in(visitor.language) for p in exc.problems},
            values={
                "score": score if isinstance(score, str) else "",
                "comment": comment[: surveys.MAX_COMMENT] if isinstance(comment, str) else "",
            },
        )
    return _survey_page(visitor, state="thanks")
