"""The form validator, fed arbitrary JSON, answers clean data or InvalidData and
nothing else (issue 14: no 500 for any input)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.errors import InvalidData
from forms.registry import FORMS_DIR, forms_by_element, validate_submission, values_from_form_text

FORMS = [
    form
    for path in sorted(Path(FORMS_DIR).glob("*.json"))
    for form in forms_by_element(path.read_text(encoding="utf-8")).values()
]
NAMES = sorted({f["name"] for form in FORMS for f in form["fields"]})
OPTIONS = sorted(
    {str(o["value"]) for form in FORMS for f in form["fields"] for o in f.get("options", [])}
)

# Any JSON value, with numbers at the edges (huge, NaN, infinite) and the forms' own
# option values and field names, so that the deeper checks are reached too.
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text()
    | st.sampled_from(OPTIONS)
    | st.sampled_from(["13800138000", "+8613800138000", "2026-02-30", "2026-01-31", " "])
)
JSON = st.recursive(
    SCALARS,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(max_size=8) | st.sampled_from(NAMES), inner, max_size=4)
    ),
    max_leaves=12,
)
SUBMISSION = st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=8), JSON, max_size=8)


def _user_check(username: Any, department: Any, roles: Any) -> bool:
    return username == "cs1"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    form=st.sampled_from([None, *FORMS]),
    pick=st.data(),
    language=st.sampled_from(["zh-CN", "en"]),
)
def test_validate_submission_raises_only_invalid_data(
    form: dict[str, Any] | None, pick: st.DataObject, language: str
) -> None:
    own = sorted(f["name"] for f in form["fields"]) if form else NAMES
    # Mostly the form's own fields with arbitrary values; sometimes any JSON at all.
    data = pick.draw(
        st.dictionaries(st.sampled_from(own), JSON, max_size=len(own)) | SUBMISSION | JSON
    )
    try:
        clean = validate_submission(form, data, language=language, user_check=_user_check)
    except InvalidData as exc:
        assert exc.problems and all(p.field is not None and p.message for p in exc.problems)
    else:
        assert isinstance(clean, dict)


VALUE_TEXTS = (
    st.text()
    | st.lists(st.text(), max_size=3)
    | st.sampled_from(["1e999", "nan", "-inf", "9" * 5000, "1" * 400, "true", "on"])
)
POSTED = st.dictionaries(st.sampled_from(NAMES) | st.text(max_size=8), VALUE_TEXTS, max_size=8)


@settings(max_examples=200, deadline=None)
@given(form=st.sampled_from(FORMS), pick=st.data())
def test_a_posted_page_form_raises_only_invalid_data(
    form: dict[str, Any], pick: st.DataObject
) -> None:
    own = sorted(f["name"] for f in form["fields"])
    posted = pick.draw(st.dictionaries(st.sampled_from(own), VALUE_TEXTS) | POSTED)
    data = values_from_form_text(form["fields"], posted)
    try:
        validate_submission(form, data, user_check=_user_check)
    except InvalidData:
        pass


EDGES = [10**400, -(10**400), 2**53, 1e308, float("nan"), float("inf"), [], {}, "", "\x00", True]


def test_every_field_refuses_the_edges_with_invalid_data() -> None:
    for form in FORMS:
        for field in form["fields"]:
            for value in EDGES:
                try:
                    clean = validate_submission(
                        form, {field["name"]: value}, user_check=_user_check
                    )
                except InvalidData:
                    continue
                assert clean[field["name"]] is None or field["type"] != "integer", value
