"""A small client over FastAPI's TestClient that signs in users and speaks the API."""

from __future__ import annotations

import weakref
from typing import Any, ClassVar

from fastapi.testclient import TestClient

from api.app import create_app


class Api:
    """The HTTP API as a user sees it (bearer tokens per username)."""

    _open: ClassVar[weakref.WeakSet[Api]] = weakref.WeakSet()

    def __init__(self) -> None:
        self.client = TestClient(create_app())
        # One event loop (blocking portal) for all of this client's requests, as
        # Starlette recommends, instead of a new thread and loop per request.
        self.client.__enter__()
        self._closed = False
        Api._open.add(self)
        self.tokens: dict[str, str] = {}

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self.client.__exit__(None, None, None)

    @classmethod
    def close_all(cls) -> None:
        """Close every client still open (after each test)."""
        for api in list(cls._open):
            api.close()

    def login(self, username: str, password: str = "secret-pw") -> str:
        r = self.client.post(
            "/api/v1/auth/token", data={"username": username, "password": password}
        )
        assert r.status_code == 200, r.text
        self.tokens[username] = r.json()["access_token"]
        return self.tokens[username]

    def _headers(self, user: str | None) -> dict[str, str]:
        if user is None:
            return {}
        if user not in self.tokens:
            self.login(user)
        return {"Authorization": f"Bearer {self.tokens[user]}"}

    def get(self, path: str, user: str | None, **kw: Any):  # type: ignore[no-untyped-def]
        headers = {**self._headers(user), **kw.pop("headers", {})}
        return self.client.get(f"/api/v1{path}", headers=headers, **kw)

    def post(self, path: str, user: str | None, **kw: Any):  # type: ignore[no-untyped-def]
        headers = {**self._headers(user), **kw.pop("headers", {})}
        return self.client.post(f"/api/v1{path}", headers=headers, **kw)

    def deploy(self, user: str, filename: str, content: bytes):  # type: ignore[no-untyped-def]
        return self.post("/processes", user, files={"file": (filename, content, "text/xml")})

    def start(self, user: str, key: str, variables: dict | None = None, **body: Any):  # type: ignore[no-untyped-def]
        return self.post(
            f"/processes/{key}/instances", user, json={"variables": variables or {}, **body}
        )

    def tasks(self, user: str, **params: Any) -> list[dict]:
        r = self.get("/tasks", user, params=params)
        assert r.status_code == 200, r.text
        return r.json()["items"]

    def complete(self, user: str, task_id: str, variables: dict | None = None):  # type: ignore[no-untyped-def]
        return self.post(f"/tasks/{task_id}/complete", user, json={"variables": variables or {}})
