"""A bounded schemathesis run over every operation of the API, as an admin and as a
staff member (both databases): no answer is a 5xx and every answer matches the
OpenAPI document (its status codes documented, its body of the documented shape).

Bounded on purpose (`FLOWDESK_FUZZ_EXAMPLES` examples per operation, 10 unless set),
so it fits `make test`; the sign-in is fuzzed with a username nobody has, so the
throttle never locks the test users out."""

from __future__ import annotations

import os
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from api.app import OPENAPI_URL
from tests.fixtures.factories import make_user
from tests.fixtures.shipped import setup_shipped

EXAMPLES = int(os.environ.get("FLOWDESK_FUZZ_EXAMPLES", "10"))
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
SIGN_IN = "/auth/token"


def _fuzz_operation(operation: Any, token: str) -> int:
    """Run the examples of one operation; return how many calls it made (raises on the
    first failing check)."""
    signing_in = operation.path.endswith(SIGN_IN)
    headers = {} if signing_in else {"Authorization": f"Bearer {token}"}
    calls = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    @given(case=operation.as_strategy())
    def run(case: Any) -> None:
        nonlocal calls
        if signing_in and isinstance(case.body, dict):
            case.body["username"] = "nobody-fuzzed"
        response = case.call(headers=headers)
        calls += 1
        case.validate_response(response, checks=CHECKS)

    run()
    return calls


@pytest.mark.parametrize("username", ["admin", "eng1"])
def test_no_operation_answers_5xx_or_off_schema(db_url: str, username: str) -> None:
    api = setup_shipped()
    make_user("admin", "admin")
    token = api.login(username)
    schema = schemathesis.openapi.from_asgi(OPENAPI_URL, api.client.app)
    failures: list[str] = []
    calls: dict[str, int] = {}
    for result in schema.get_all_operations():
        operation = result.ok()
        label = f"{operation.method.upper()} {operation.path}"
        try:
            calls[label] = _fuzz_operation(operation, token)
        except Exception as exc:  # noqa: BLE001 - every operation's failure, reported together
            calls[label] = -1
            failures.append(f"{label}: {exc}"[:2000])
    assert not failures, "\n\n".join(failures)
    # every operation of the document was called (none silently skipped)
    assert len(calls) >= 30 and all(n > 0 for n in calls.values()), calls
