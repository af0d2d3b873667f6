"""Form definitions (one JSON file per process in this folder) and server-side validation.

The files here are what a deployment takes when no forms file sits beside the BPMN
(engine.definitions); a running case reads the forms its version was deployed with,
never these files. A start event or user task with a form accepts only data valid
for that form: unknown fields are refused, each problem names its field, in the
caller's language (CONTRACT.md). One without a form accepts any JSON object.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from engine import texts
from engine.departments import DEPARTMENTS
from engine.errors import FieldProblem, InvalidData
from forms.display import catalogue_problems, option_label

FORMS_DIR = Path(__file__).resolve().parent
FIELD_TYPES = (
    "string",
    "text",
    "boolean",
    "integer",
    "number",
    "enum",
    "multi_enum",
    "date",
    "mobile",
    "user",
)
# The largest number a form takes: what a JSON double holds exactly (2**53 - 1); beyond
# it a number is no longer the one typed (and 10**400 has no float at all).
MAX_WHOLE = 2**53 - 1
# Mainland China mobile numbers: 11 digits starting 13-19 (optionally +86 / 86).
MOBILE = re.compile(r"^(?:\+?86)?(1[3-9]\d{9})$")

# (username, department, roles) -> whether such an active user exists
UserCheck = Callable[[str, str | None, list[str]], bool]


def message(key: str, language: str, **params: Any) -> str:
    """Return a validation message in the caller's language (zh-CN unless English)."""
    lang = "en" if language.lower().startswith("en") else "zh-CN"
    return texts.text(f"form_{key}", lang, **params)


def _option_names(field: dict[str, Any], language: str) -> str:
    """The options of a field by their names in the caller's language (people read
    the message; the codes are in the form's definition)."""
    lang = "en" if language.lower().startswith("en") else "zh-CN"
    names = [(o.get("label") or {}).get(lang) or o["value"] for o in field["options"]]
    return ("、" if lang == "zh-CN" else ", ").join(names)


def _department_name(code: str | None, language: str) -> str:
    """A department of CONTRACT.md by its name in the caller's language (any department)."""
    if code is None:
        return message("user_any_department", language)
    english = language.lower().startswith("en")
    known = {d.code: d.name_en if english else d.name_zh for d in DEPARTMENTS}
    return known.get(code, code)


def _role_names(roles: list[str], language: str) -> str:
    """The roles a user field asks for, in words (staff → 员工, supervisor → 主管)."""
    named = [
        message(f"user_role_{role}", language) if texts.has_text(f"form_user_role_{role}") else role
        for role in roles
    ]
    return ("或" if not language.lower().startswith("en") else " or ").join(named) or message(
        "user_role_any", language
    )


def package_forms_file(process_key: str) -> Path | None:
    """Return the file of this folder that defines a process's forms, or None."""
    for path in sorted(FORMS_DIR.glob("*.json")):
        if defined_process(path.read_bytes()) == process_key:
            return path
    return None


def defined_process(content: bytes) -> str | None:
    """Return the process key a forms file names, or None when it names none."""
    try:
        definition = json.loads(content.decode("utf-8"))
    except ValueError:  # UnicodeDecodeError and JSONDecodeError both are
        return None
    process = definition.get("process") if isinstance(definition, dict) else None
    return process if isinstance(process, str) else None


def definition_problems(content: bytes, *, process_key: str) -> list[str]:
    """Return why a forms file cannot be deployed with a process (empty when it can)."""
    try:
        definition = json.loads(content.decode("utf-8"))
    except ValueError as exc:
        return [f"not a JSON document in UTF-8: {exc}"]
    if not isinstance(definition, dict) or not isinstance(definition.get("forms"), dict):
        return ['must be a JSON object with "process" and "forms" (an object by element id)']
    if definition.get("process") != process_key:
        return [f"names process {definition.get('process')!r}, not {process_key!r}"]
    problems: list[str] = []
    for element_id, form in definition["forms"].items():
        fields = form.get("fields") if isinstance(form, dict) else None
        if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
            problems.append(f"form {element_id}: needs a list of fields")
            continue
        problems += [f"form {element_id}: {p}" for p in _field_problems(fields)]
    field_names = {
        str(f["name"])
        for form in definition["forms"].values()
        if isinstance(form, dict) and isinstance(form.get("fields"), list)
        for f in form["fields"]
        if isinstance(f, dict) and isinstance(f.get("name"), str)
    }
    return problems + catalogue_problems(definition.get("variables"), field_names)


def _field_problems(fields: list[dict[str, Any]]) -> list[str]:
    """Return what in a form's fields would fail validation at run time."""
    problems: list[str] = []
    names = [f.get("name") for f in fields]
    for field in fields:
        name = field.get("name")
        if not isinstance(name, str) or not name:
            problems.append("every field needs a name")
        elif names.count(name) > 1:
            problems.append(f"field {name} is defined twice")
        if field.get("type") not in FIELD_TYPES:
            problems.append(f"field {name} has unknown type {field.get('type')!r}")
        options = field.get("options")
        if field.get("type") in ("enum", "multi_enum") and not (
            isinstance(options, list) and all(isinstance(o, dict) and "value" in o for o in options)
        ):
            problems.append(f"field {name} needs a list of options with values")
        condition = field.get("required_if")
        if condition is not None and (
            not isinstance(condition, dict) or condition.get("field") not in names
        ):
            problems.append(f"field {name}: required_if names no field of this form")
    return problems


def forms_by_element(text: str) -> dict[str, dict[str, Any]]:
    """Return the forms of a (deployed) forms definition by element id."""
    definition = json.loads(text)
    return {
        element_id: {"element_id": element_id, **form}
        for element_id, form in definition["forms"].items()
    }


def _label(field: dict[str, Any], language: str) -> str:
    lang = "en" if language.lower().startswith("en") else "zh-CN"
    return str(field.get("label", {}).get(lang, field["name"]))


def values_from_form_text(fields: list[dict[str, Any]], posted: dict[str, Any]) -> dict[str, Any]:
    """Turn what an HTML form posts (strings, a list for repeated names) into the values
    `validate_submission` checks: booleans, numbers, lists; blank fields become None.

    A string that is not a number stays a string, so validation names the field.
    """
    data: dict[str, Any] = {}
    for field in fields:
        name, kind = field["name"], field["type"]
        value = posted.get(name)
        if kind == "multi_enum":
            data[name] = [v for v in (value if isinstance(value, list) else [value]) if v] or None
            continue
        if isinstance(value, list):
            value = value[-1] if value else None
        if value is None or (isinstance(value, str) and value.strip() == ""):
            # an unchecked box posts nothing: false when the form sent the field at all
            data[name] = (False if name in posted else None) if kind == "boolean" else None
            continue
        data[name] = _from_text(kind, value)
    return data


def _from_text(kind: str, value: Any) -> Any:
    if kind == "boolean":
        return value in ("true", "on", "1", "yes")
    parse = {"integer": int, "number": float}.get(kind)
    if parse is None:
        return value
    try:
        return parse(value)
    except ValueError:
        return value


def _check_value(
    field: dict[str, Any], value: Any, language: str, user_check: UserCheck | None
) -> tuple[Any, str | None]:
    """Return (clean value, problem message or None) for a present, non-null value."""
    kind = field["type"]
    if kind in ("string", "text"):
        if not isinstance(value, str):
            return value, message("string", language)
        value = value.strip()
        limit = field.get("max_length")
        if limit and len(value) > limit:
            return value, message("too_long", language, n=limit)
        return value, None
    if kind == "boolean":
        return (value, None) if isinstance(value, bool) else (value, message("boolean", language))
    if kind in ("integer", "number"):
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or (isinstance(value, float) and not math.isfinite(value))
        ):
            return value, message(kind, language)
        if value > MAX_WHOLE:
            return value, message("max", language, n=MAX_WHOLE)
        if value < -MAX_WHOLE:
            return value, message("min", language, n=-MAX_WHOLE)
        if kind == "integer" and isinstance(value, float) and not value.is_integer():
            return value, message("integer", language)
        if kind == "integer":
            value = int(value)
        if "min" in field and value < field["min"]:
            return value, message("min", language, n=field["min"])
        if "max" in field and value > field["max"]:
            return value, message("max", language, n=field["max"])
        if "exclusive_min" in field and value <= field["exclusive_min"]:
            return value, message("exclusive_min", language, n=field["exclusive_min"])
        return value, None
    if kind == "enum":
        allowed = [o["value"] for o in field["options"]]
        if value not in allowed:
            return value, message("enum", language, values=_option_names(field, language))
        return value, None
    if kind == "multi_enum":
        allowed = [o["value"] for o in field["options"]]
        if not isinstance(value, list):
            return value, message("list", language)
        bad = [v for v in value if v not in allowed]
        if bad:
            return value, message("enum", language, values=_option_names(field, language))
        return list(dict.fromkeys(value)), None
    if kind == "date":
        try:
            return date.fromisoformat(value).isoformat(), None
        except (TypeError, ValueError):
            return value, message("date", language)
    if kind == "mobile":
        match = (
            MOBILE.match(value.replace(" ", "").replace("-", ""))
            if isinstance(value, str)
            else None
        )
        if match is None:
            return value, message("mobile", language)
        return match.group(1), None
    if kind == "user":
        if not isinstance(value, str) or not value:
            return value, message("string", language)
        department, roles = field.get("department"), field.get("roles", [])
        if user_check is not None and not user_check(value, department, roles):
            return value, message(
                "user",
                language,
                department=_department_name(department, language),
                roles=_role_names(roles, language),
            )
        return value, None
    raise ValueError(f"form field {field['name']} has unknown type {kind}")


def validate_submission(
    form: dict[str, Any] | None,
    data: Any,
    *,
    language: str = "zh-CN",
    user_check: UserCheck | None = None,
) -> dict[str, Any]:
    """Return the data to store for a submission to a form (None: no form, any object);
    InvalidData naming each bad field."""
    if not isinstance(data, dict):
        raise InvalidData([FieldProblem("variables", message("not_object", language))])
    bad_names = [
        k for k in data if not isinstance(k, str) or not k.isidentifier() or k.startswith("_")
    ]
    if bad_names:
        raise InvalidData(
            [
                FieldProblem(str(k), "variable names must be identifiers not starting with '_'")
                for k in bad_names
            ]
        )
    if form is None:
        return dict(data)
    fields = {f["name"]: f for f in form["fields"]}
    problems = [FieldProblem(k, message("unknown", language)) for k in data if k not in fields]
    clean: dict[str, Any] = {}
    for name, field in fields.items():
        value = data.get(name)
        if value is None or (
            isinstance(value, str) and not value.strip() and field["type"] != "text"
        ):
            value = field.get("default")
        if value is None:
            clean[name] = None
            continue
        value, problem = _check_value(field, value, language, user_check)
        if problem:
            problems.append(FieldProblem(name, problem))
        clean[name] = value
    for name, field in fields.items():
        empty = clean.get(name) in (None, "", [])
        if field.get("required") and empty:
            problems.append(FieldProblem(name, message("required", language)))
        condition = field.get("required_if")
        if condition and empty and clean.get(condition["field"]) == condition["equals"]:
            other = fields[condition["field"]]
            problems.append(
                FieldProblem(
                    name,
                    message(
                        "required_if",
                        language,
                        field=_label(other, language),
                        value=option_label(other, condition["equals"], language),
                    ),
                )
            )
    if problems:
        raise InvalidData(problems)
    return clean
