"""The restricted evaluator for BPMN conditions, scripts, timer and DMN expressions.

BPMN files are untrusted input. SpiffWorkflow's default environment runs plain
`eval`/`exec`, so this module gives it one that compiles every source with
RestrictedPython (no imports, no names or attributes starting with `_`) and runs
it with guarded attribute, item and iteration access and a short list of safe
builtins. Compiled code is cached per source string.
"""

from __future__ import annotations

import builtins
import threading
from collections.abc import Sequence
from datetime import date, datetime, timedelta
from functools import lru_cache
from types import CodeType, ModuleType
from typing import Any

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
)
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment


class ScriptRefused(Exception):
    """The source uses something the restricted evaluator does not allow."""


_EXTRA_BUILTINS = (
    "abs all any bool dict divmod enumerate filter float frozenset int isinstance len list "
    "map max min range reversed round set sorted str sum tuple zip"
).split()

# Attributes that reach interpreter internals without a leading underscore.
_FORBIDDEN_ATTRIBUTES = frozenset(
    {
        "format",
        "format_map",
        "mro",
        "gi_frame",
        "gi_code",
        "gi_yieldfrom",
        "cr_frame",
        "cr_code",
        "ag_frame",
        "ag_code",
        "f_globals",
        "f_locals",
        "f_builtins",
        "f_back",
        "f_code",
        "tb_frame",
        "tb_next",
        "func_globals",
        "func_code",
    }
)


def _guarded_getattr(obj: Any, name: str, default: Any = None) -> Any:
    if not isinstance(name, str) or name.startswith("_"):
        raise ScriptRefused(
            f"attribute '{name}' is not allowed: names starting with '_' are refused"
        )
    if name in _FORBIDDEN_ATTRIBUTES:
        raise ScriptRefused(f"attribute '{name}' is not allowed in BPMN expressions")
    if isinstance(obj, ModuleType):
        raise ScriptRefused("modules are not available in BPMN expressions")
    return getattr(obj, name, default) if default is not None else getattr(obj, name)


def _guarded_getitem(obj: Any, key: Any) -> Any:
    if isinstance(key, str) and key.startswith("__"):
        raise ScriptRefused(f"item '{key}' is not allowed")
    return obj[key]


def _guarded_inplacevar(op: str, x: Any, y: Any) -> Any:
    operations = {
        "+=": lambda: x + y,
        "-=": lambda: x - y,
        "*=": lambda: x * y,
        "/=": lambda: x / y,
        "//=": lambda: x // y,
        "%=": lambda: x % y,
        "**=": lambda: x**y,
        "|=": lambda: x | y,
        "&=": lambda: x & y,
        "^=": lambda: x ^ y,
    }
    if op not in operations:
        raise ScriptRefused(f"operator {op} is not allowed")
    return operations[op]()


def _build_globals() -> dict[str, Any]:
    safe = dict(safe_builtins)
    for name in _EXTRA_BUILTINS:
        safe[name] = getattr(builtins, name)
    # RestrictedPython's safe builtins include setattr/delattr with its own guards;
    # BPMN expressions have no business changing objects' attributes at all.
    for name in ("setattr", "delattr", "_getattr_"):
        safe.pop(name, None)
    return {
        "__builtins__": safe,
        "_getattr_": _guarded_getattr,
        "_getitem_": _guarded_getitem,
        "_getiter_": iter,
        "_write_": full_write_guard,
        "_inplacevar_": _guarded_inplacevar,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "datetime": datetime,
        "timedelta": timedelta,
        "date": date,
    }


_GLOBALS = _build_globals()
_GUARD_NAMES = frozenset(_GLOBALS)


def _refusal_message(errors: Sequence[str]) -> str:
    return "; ".join(e.replace("Line None: ", "") for e in errors)


@lru_cache(maxsize=4096)
def _compile(source: str, mode: str) -> CodeType:
    """Compile restricted source once (thread-safe: lru_cache holds a lock)."""
    compiler = compile_restricted_eval if mode == "eval" else compile_restricted_exec
    result = compiler(source.strip() if mode == "eval" else source, "<bpmn>")
    if result.errors or result.code is None:
        raise ScriptRefused(_refusal_message(result.errors) or "cannot compile")
    return result.code


def _check(source: str, mode: str) -> str | None:
    if not isinstance(source, str) or not source.strip():
        return "the expression is empty"
    try:
        _compile(source, mode)
    except ScriptRefused as exc:
        return str(exc)
    except SyntaxError as exc:
        return f"syntax error at line {exc.lineno}, column {exc.offset}: {exc.msg}"
    return None


def check_expression(source: str) -> str | None:
    """Return a problem message for a BPMN expression, or None when it compiles restricted."""
    return _check(source, "eval")


def check_script(source: str) -> str | None:
    """Return a problem message for a BPMN script, or None when it compiles restricted."""
    return _check(source, "exec")


class RestrictedEnvironment(TaskDataEnvironment):
    """A SpiffWorkflow environment that runs task-data code under RestrictedPython."""

    def evaluate(
        self,
        expression: str,
        context: dict[str, Any],
        external_context: dict[str, Any] | None = None,
    ) -> Any:
        code = _compile(expression, "eval")
        scope = dict(_GLOBALS)
        scope.update(external_context or {})
        scope.update(context)
        return eval(code, scope)  # noqa: S307 - restricted bytecode with guards

    def execute(
        self, script: str, context: dict[str, Any], external_context: dict[str, Any] | None = None
    ) -> bool:
        code = _compile(script, "exec")
        scope = dict(_GLOBALS)
        scope.update(external_context or {})
        scope.update(context)
        exec(code, scope)  # noqa: S102 - restricted bytecode with guards
        # Write back what the script set, leaving guards, builtins and callables out.
        for key, value in scope.items():
            if (
                key in _GUARD_NAMES
                or key.startswith("_")
                or callable(value)
                or isinstance(value, ModuleType)
            ):
                if key in context and key not in _GUARD_NAMES:
                    context.pop(key)
                continue
            if external_context and key in external_context:
                continue
            context[key] = value
        return True


_engine_lock = threading.Lock()
_ENGINE: PythonScriptEngine | None = None


def restricted_script_engine() -> PythonScriptEngine:
    """Return the shared script engine that runs every BPMN expression restricted."""
    global _ENGINE
    with _engine_lock:
        if _ENGINE is None:
            _ENGINE = PythonScriptEngine(environment=RestrictedEnvironment())
        return _ENGINE
