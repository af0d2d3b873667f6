"""A signed-in browser for page tests over HTTP: cookies and the page's CSRF token."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from api.app import create_app


class Browser:
    """One person's browser: cookies, and the CSRF token of the last page."""

    def __init__(self) -> None:
        self.client = TestClient(create_app(), follow_redirects=False)
        self.client.__enter__()
        self.csrf = ""

    def get(self, path: str, **kw):  # type: ignore[no-untyped-def]
        r = self.client.get(path, **kw)
        found = re.search(r'name="csrf_token" value="([^"]+)"', r.text)
        if found:
            self.csrf = found.group(1)
        return r

    def post(self, path: str, data: dict | None = None, csrf: bool = True):  # type: ignore[no-untyped-def]
        body = dict(data or {})
        if csrf:
            body["csrf_token"] = self.csrf
        return self.client.post(path, data=body)

    def sign_in(self, username: str, password: str = "secret-pw") -> None:
        self.get("/login")
        r = self.post("/login", {"username": username, "password": password, "next": "/inbox"})
        assert r.status_code == 303, r.text
        self.get("/inbox")

    def close(self) -> None:
        self.client.__exit__(None, None, None)
