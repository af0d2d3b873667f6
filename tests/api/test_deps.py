"""The request dependencies of api/deps.py: the caller's language from its header, read
on the event loop (a plain function dependency would be run in the thread pool, a
hand-off per request for parsing one header)."""

from __future__ import annotations

import asyncio
import inspect

from starlette.requests import Request

from api.deps import language


def _request(accept_language: str | None) -> Request:
    headers = [] if accept_language is None else [(b"accept-language", accept_language.encode())]
    return Request({"type": "http", "method": "GET", "path": "/", "headers": headers})


def test_the_language_dependency_runs_on_the_event_loop() -> None:
    assert inspect.iscoroutinefunction(language)


def test_the_language_comes_from_the_first_known_tag() -> None:
    cases = {
        None: "zh-CN",
        "": "zh-CN",
        "en-US,en;q=0.9": "en",
        "zh-TW;q=0.8, en;q=0.5": "zh-CN",
        "fr, en;q=0.5": "en",
        "fr": "zh-CN",
    }
    for header, expected in cases.items():
        assert asyncio.run(language(_request(header))) == expected, header
