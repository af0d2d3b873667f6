"""The platform knows no complaint or lead: nothing under engine/ imports or names the
real-estate vertical (crm/), which plugs in through engine/hooks.py instead."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ENGINE = Path(__file__).resolve().parents[2] / "engine"
# The vertical's record types and process keys, as words in code, comments or texts.
VERTICAL_WORDS = re.compile(
    r"\b(Complaint|Lead|LeadStage|UnitOwnership|complaint_handling|lead_follow_up)\b"
)


def _engine_files() -> list[Path]:
    files = sorted(ENGINE.rglob("*.py"))
    assert files, f"no engine sources under {ENGINE}"
    return files


def _imported_modules(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return names


def test_engine_never_imports_the_vertical() -> None:
    offending = [
        f"{path.relative_to(ENGINE.parent)}: import {name}"
        for path in _engine_files()
        for name in _imported_modules(ast.parse(path.read_text(encoding="utf-8")))
        if name == "crm" or name.startswith("crm.")
    ]
    assert offending == []


def test_engine_names_no_complaint_or_lead() -> None:
    offending = [
        f"{path.relative_to(ENGINE.parent)}:{number}: {line.strip()}"
        for path in _engine_files()
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if VERTICAL_WORDS.search(line)
    ]
    assert offending == []
