"""How a case's values read to people: the form's label for a variable, option names for
codes, 是/否 for booleans, department and people's names, amounts in full yuan, lists
and records (a list of objects, like `proposals`) as readable rows.

What a variable is comes from the version's forms (every field of every form) and the
forms file's `variables` section, the catalogue of the variables no form asks for
(set by the process's scripts and decisions): a label, a type, extra options, the
fields of a record, or `"hidden": true` for bookkeeping nobody needs to read. A
catalogue entry with a form field's name adds to that field (options, a format).

Pure functions: the caller passes the names of departments and people (`Names`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

YES_NO = {"zh-CN": ("是", "否"), "en": ("yes", "no")}
# Lists of codes read like 工程部、物业部; lists of sentences one after another.
CODE_SEPARATOR = {"zh-CN": "、", "en": ", "}
TEXT_SEPARATOR = {"zh-CN": "；", "en": "; "}
FIELD_SEPARATOR = {"zh-CN": "，", "en": ", "}  # the fields of one record
COLON = {"zh-CN": "：", "en": ": "}
CODE_TYPES = ("enum", "multi_enum", "department", "departments", "user", "boolean")


def language_of(language: str) -> str:
    """Return the catalogue language a page language reads in (zh-CN unless English)."""
    return "en" if language.lower().startswith("en") else "zh-CN"


@dataclass(frozen=True)
class Names:
    """Display names of the codes values hold: departments and usernames."""

    departments: Mapping[str, str] = field(default_factory=dict)
    people: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ShownVariable:
    """One variable as a page shows it: its label and its value in words; a record list
    (`rows`) as one list of (label, value) per item."""

    name: str
    label: str
    text: str
    rows: list[list[tuple[str, str]]] = field(default_factory=list)


def variables_section(forms_json: str | None) -> dict[str, dict[str, Any]]:
    """Return the `variables` catalogue of a forms definition ({} when it has none)."""
    if not forms_json:
        return {}
    section = json.loads(forms_json).get("variables")
    if not isinstance(section, dict):
        return {}
    return {name: spec for name, spec in section.items() if isinstance(spec, dict)}


def catalogue_problems(section: Any, field_names: set[str]) -> list[str]:
    """Return what is wrong with a forms file's `variables` section (empty when fine):
    a variable no form asks for needs a label unless it is hidden."""
    if section is None:
        return []
    if not isinstance(section, dict):
        return ['"variables" must be an object by variable name']
    problems = []
    for name, spec in section.items():
        if not isinstance(spec, dict):
            problems.append(f"variable {name}: must be an object")
        elif (
            name not in field_names
            and not spec.get("hidden")
            and not isinstance(spec.get("label"), dict)
        ):
            problems.append(f'variable {name}: needs a label (zh-CN, en) or "hidden": true')
    return problems


def variable_specs(
    forms: Mapping[str, dict[str, Any]], catalogue: Mapping[str, dict[str, Any]]
) -> dict[str, dict[str, Any]]:
    """Return what each known variable is: the first form field of its name, with what
    the catalogue adds (options are added to the field's), or the catalogue's entry."""
    specs: dict[str, dict[str, Any]] = {}
    for form in forms.values():
        for form_field in form.get("fields", []):
            specs.setdefault(form_field["name"], form_field)
    for name, entry in catalogue.items():
        known = specs.get(name)
        if known is None:
            specs[name] = {"name": name, **entry}
            continue
        merged = {**known, **{k: v for k, v in entry.items() if k != "options"}}
        merged["options"] = [*known.get("options", []), *entry.get("options", [])]
        specs[name] = merged
    return specs


def label_of(spec: Mapping[str, Any], language: str) -> str:
    """Return a field's or variable's label in the language (its name without one)."""
    labels = spec.get("label") or {}
    return str(labels.get(language_of(language)) or labels.get("zh-CN") or spec.get("name", ""))


def option_label(spec: Mapping[str, Any], value: Any, language: str) -> str:
    """Return the name of one option of a field (the value itself when it has none)."""
    lang = language_of(language)
    for option in spec.get("options", []):
        if option.get("value") == value:
            labels = option.get("label") or {}
            return str(labels.get(lang) or labels.get("zh-CN") or value)
    return str(value)


def describe_variables(
    specs: Mapping[str, dict[str, Any]],
    variables: Mapping[str, Any],
    language: str,
    names: Names,
    *,
    show_unknown: bool = False,
) -> list[ShownVariable]:
    """Return the variables people read, labelled, in the order of the forms and the
    catalogue; hidden ones never, ones nobody labelled only with `show_unknown` (a
    process deployed without forms has nothing better than its variables' names)."""
    order = {name: i for i, name in enumerate(specs)}
    shown: list[ShownVariable] = []
    for name in sorted(variables, key=lambda n: order.get(n, len(order))):
        spec = specs.get(name)
        if spec is None:
            if show_unknown:
                shown.append(
                    ShownVariable(name, name, value_text({}, variables[name], language, names))
                )
            continue
        if spec.get("hidden"):
            continue
        value = variables[name]
        rows = record_rows(spec, value, language, names)
        text = "" if rows else value_text(spec, value, language, names)
        shown.append(ShownVariable(name, label_of(spec, language), text, rows))
    return shown


def record_rows(
    spec: Mapping[str, Any], value: Any, language: str, names: Names
) -> list[list[tuple[str, str]]]:
    """Return a list of objects as one row of (label, value) per item ([] for other values)."""
    if not isinstance(value, list) or not value or not all(isinstance(v, dict) for v in value):
        return []
    fields = {f["name"]: f for f in spec.get("fields", []) if isinstance(f, dict)}
    rows = []
    for item in value:
        row = []
        for key, item_value in item.items():
            item_spec = fields.get(key)
            if item_spec is None or item_spec.get("hidden"):
                continue
            text = value_text(item_spec, item_value, language, names)
            row.append((label_of(item_spec, language), text or "—"))
        rows.append(row)
    return rows


def value_text(spec: Mapping[str, Any], value: Any, language: str, names: Names) -> str:
    """Return one value in words for the field or variable `spec` describes."""
    lang = language_of(language)
    kind = spec.get("type")
    if value is None or value == "" or value == []:
        return ""
    if isinstance(value, bool):
        yes, no = YES_NO[lang]
        return yes if value else no
    if isinstance(value, list):
        item_spec = {**spec, "type": _item_type(kind)}
        parts = [value_text(item_spec, v, language, names) for v in value]
        separator = CODE_SEPARATOR if _item_type(kind) in CODE_TYPES else TEXT_SEPARATOR
        return separator[lang].join(p for p in parts if p)
    if isinstance(value, dict):
        fields = {f["name"]: f for f in spec.get("fields", []) if isinstance(f, dict)}
        parts = [
            label_of(fields[k], language) + COLON[lang] + value_text(fields[k], v, language, names)
            for k, v in value.items()
            if k in fields and not fields[k].get("hidden")
        ]
        return FIELD_SEPARATOR[lang].join(parts)
    if kind in ("department", "departments"):
        return str(names.departments.get(str(value), option_label(spec, value, language)))
    if kind == "user":
        return str(names.people.get(str(value), value))
    if spec.get("options"):
        return option_label(spec, value, language)
    if isinstance(value, (int, float)):
        return number_text(value, yuan=spec.get("format") == "yuan")
    return str(value)


def _item_type(kind: Any) -> Any:
    return {"multi_enum": "enum", "departments": "department"}.get(kind, kind)


def number_text(value: float, *, yuan: bool = False) -> str:
    """Return a number as people write it: 3800 not 3800.0; amounts in full yuan with
    thousands separated (12,000; 3,800.5)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if yuan:
        return f"{value:,}" if isinstance(value, int) else f"{value:,.2f}".rstrip("0").rstrip(".")
    return str(value)
