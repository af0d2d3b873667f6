"""The restricted evaluator for BPMN conditions, scripts, timer and DMN expressions.

BPMN files are untrusted input, and SpiffWorkflow's default environment runs their
Python with plain `eval`/`exec`. This module gives SpiffWorkflow an environment that
compiles every source with RestrictedPython under a stricter policy (no imports, no
names or attributes starting with `_`, no `.format`, no frame/code attributes, no
calls to `open`, `getattr`, `eval`, `type`, ...) and runs the bytecode with guarded
attribute, item and iteration access and a short list of harmless builtins.

Compiled code is cached per source string, so a condition checked on every engine
step is parsed once per process.

Besides the task data and the date classes, BPMN code can call `current_user()`: the
username of whoever's action runs the process (the runtime sets it around each
engine run with `acting_user`), e.g. for a post-script recording who did a step.
"""

from __future__ import annotations

import ast
import builtins
import operator
import re
import textwrap
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from functools import lru_cache, partial
from types import CodeType, MappingProxyType, ModuleType
from typing import Any, Literal, NamedTuple

from RestrictedPython import compile_restricted_eval, compile_restricted_exec, safe_builtins
from RestrictedPython.Guards import (
    full_write_guard,
    guarded_iter_unpack_sequence,
    guarded_unpack_sequence,
)
from RestrictedPython.transformer import INSPECT_ATTRIBUTES
from SpiffWorkflow.bpmn.exceptions import WorkflowTaskException
from SpiffWorkflow.bpmn.script_engine import PythonScriptEngine
from SpiffWorkflow.bpmn.script_engine.python_environment import TaskDataEnvironment
from SpiffWorkflow.exceptions import SpiffWorkflowException

from engine.bounds import unstorable_at
from engine.bpmn.script_limits import (
    BoundedPrintCollector,
    Budget,
    LimitingPolicy,
    check_value_size,
    run_guards,
)

Mode = Literal["eval", "exec"]

# SpiffWorkflow finds the failing line of a script by looking for this file name in
# the traceback, so compiled code must carry it.
_FILENAME = "<string>"


class ScriptRefused(Exception):
    """Refuse BPMN source that uses something the restricted evaluator does not allow."""

    def __init__(self, message: str, line_number: int | None = None) -> None:
        super().__init__(message)
        self.line_number = line_number


# ---------------------------------------------------------------- what is refused

_UNDERSCORE_REASON = "names starting with '_' reach Python internals"

# Attributes without a leading underscore that still reach interpreter internals:
# frames, code objects and the class hierarchy.
_INTERNAL_ATTRIBUTES = frozenset(INSPECT_ATTRIBUTES | {"mro"})

# `str.format` resolves `{0.__class__}` inside the format string, where no compile
# check can see it; f-strings are compiled and checked like any other expression.
_FORMAT_ATTRIBUTES = frozenset({"format", "format_map"})

# Builtins that open files, load code or reach arbitrary attributes. None of them is
# available at run time either; naming the call at deploy time gives a clear message
# instead of a NameError later.
_FORBIDDEN_CALLS = frozenset(
    {
        "breakpoint",
        "classmethod",
        "compile",
        "delattr",
        "dir",
        "eval",
        "exec",
        "exit",
        "getattr",
        "globals",
        "hasattr",
        "help",
        "input",
        "locals",
        "memoryview",
        "object",
        "open",
        "property",
        "quit",
        "setattr",
        "staticmethod",
        "super",
        "type",
        "vars",
    }
)


def _name_problem(name: str) -> str | None:
    if name.startswith("_"):
        return f"'{name}' is not allowed because it starts with '_': {_UNDERSCORE_REASON}"
    return None


def _attribute_problem(name: str) -> str | None:
    if name.startswith("_"):
        return f"attribute '{name}' is not allowed because it starts with '_': {_UNDERSCORE_REASON}"
    if name in _INTERNAL_ATTRIBUTES:
        return f"attribute '{name}' is not allowed: it reaches interpreter frames, code or classes"
    if name in _FORMAT_ATTRIBUTES:
        return (
            f"'.{name}()' is not allowed: format strings can reach attributes starting "
            "with '_'; use an f-string instead"
        )
    return None


# RestrictedPython's own refusals, reworded for people who write BPMN, not Python.
_REWORDED = {
    "Augmented assignment of object items and slices is not allowed.": (
        "augmented assignment to an item is not allowed; write d[k] = d[k] + 1 instead of d[k] += 1"
    ),
    "Augmented assignment of attributes is not allowed.": (
        "augmented assignment to an attribute is not allowed"
    ),
}


class _BpmnPolicy(LimitingPolicy):
    """RestrictedPython's policy, stricter where BPMN needs it and worded for users."""

    def error(self, node: ast.AST, info: str) -> None:
        lineno = getattr(node, "lineno", None)
        self.errors.append(f"Line {lineno}: {_REWORDED.get(info, info)}")

    def check_name(self, node: Any, name: str | None, allow_magic_methods: bool = False) -> None:
        # RestrictedPython lets magic method names through inside classes; BPMN has
        # no use for them, and one wording for every '_' name is clearer.
        problem = _name_problem(name) if name and name != "_" else None
        if problem:
            self.error(node, problem)
            return
        super().check_name(node, name, allow_magic_methods)

    def visit_Attribute(self, node: ast.Attribute) -> Any:
        problem = _attribute_problem(node.attr)
        if problem:
            self.error(node, problem)
            return self.node_contents_visit(node)
        return super().visit_Attribute(node)

    def visit_Call(self, node: ast.Call) -> Any:
        if isinstance(node.func, ast.Name) and node.func.id in _FORBIDDEN_CALLS:
            self.error(
                node,
                f"{node.func.id}() is not allowed: BPMN code cannot reach files, "
                "modules or Python internals",
            )
        return super().visit_Call(node)

    def visit_Import(self, node: ast.Import) -> Any:
        self.error(node, "import is not allowed: BPMN code cannot load modules")
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> Any:
        self.error(node, "import is not allowed: BPMN code cannot load modules")
        return node


# ---------------------------------------------------------------- compiling


class _Refusal(NamedTuple):
    message: str
    line_number: int | None


_LINE_PREFIX = re.compile(r"^Line (\d+|None): ")


def _refusal_from_policy(errors: Sequence[str], multiline: bool) -> _Refusal:
    first_line: int | None = None
    messages: list[str] = []
    for error in errors:
        match = _LINE_PREFIX.match(error)
        line = int(match.group(1)) if match and match.group(1) != "None" else None
        text = error[match.end() :] if match else error
        first_line = first_line or line
        messages.append(f"line {line}: {text}" if multiline and line else text)
    # The outermost problem is the one worth reading; the rest are usually the same
    # escape seen one attribute further in.
    more = len(messages) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
    return _Refusal(messages[0] + suffix, first_line)


def _syntax_refusal(exc: SyntaxError) -> _Refusal:
    where = f" at line {exc.lineno}" if exc.lineno else ""
    where += f", column {exc.offset}" if exc.lineno and exc.offset else ""
    return _Refusal(f"syntax error{where}: {exc.msg}", exc.lineno)


def _prepare(source: str, mode: Mode) -> str:
    # BPMN editors and hand-written XML indent the text inside <script> and
    # <conditionExpression>; Python would read that as an IndentationError. The
    # newline after an expression lets CPython give a column for "amount >".
    return source.strip() + "\n" if mode == "eval" else textwrap.dedent(source)


# lru_cache is safe to call from many threads: its bookkeeping is locked. Two threads
# missing on the same source may both compile it, which is harmless because
# compiling is pure and code objects are immutable. Refusals are cached as values
# (not raised from inside the cache) so broken sources are not recompiled either.
@lru_cache(maxsize=4096)
def _compile(source: str, mode: Mode) -> CodeType | _Refusal:
    text = _prepare(source, mode)
    if not text.strip():
        return _Refusal(
            "the expression is empty" if mode == "eval" else "the script is empty", None
        )
    try:
        # Parsing first gives syntax errors with a column, which RestrictedPython drops.
        if mode == "eval":
            tree = ast.parse(text, _FILENAME, "eval")
            result = compile_restricted_eval(tree, _FILENAME, policy=_BpmnPolicy)
        else:
            module = ast.parse(text, _FILENAME, "exec")
            result = compile_restricted_exec(module, _FILENAME, policy=_BpmnPolicy)
    except SyntaxError as exc:  # from parsing, or from CPython's final compile step
        return _syntax_refusal(exc)
    except ValueError as exc:  # e.g. NUL bytes in the source
        return _Refusal(f"cannot compile: {exc}", None)
    except RecursionError:
        return _Refusal("the code is nested too deeply", None)
    if result.errors:
        return _refusal_from_policy(result.errors, multiline="\n" in text.strip())
    if result.code is None:  # pragma: no cover - RestrictedPython reports why above
        return _Refusal("cannot compile", None)
    return result.code


def _compiled(source: str, mode: Mode) -> CodeType:
    if not isinstance(source, str):
        raise ScriptRefused(f"expected source text, got {type(source).__name__}")
    compiled = _compile(source, mode)
    if isinstance(compiled, _Refusal):
        raise ScriptRefused(compiled.message, compiled.line_number)
    return compiled


def _check(source: str, mode: Mode) -> str | None:
    try:
        _compiled(source, mode)
    except ScriptRefused as exc:
        return str(exc)
    return None


def check_expression(source: str) -> str | None:
    """Return why a BPMN expression would be refused, or None when it compiles."""
    return _check(source, "eval")


def check_script(source: str) -> str | None:
    """Return why a BPMN script would be refused, or None when it compiles."""
    return _check(source, "exec")


# ---------------------------------------------------------------- running

_MISSING = object()


def _guarded_getattr(obj: Any, name: str, default: Any = _MISSING) -> Any:
    """Read an attribute the way compiled BPMN code may (`a.b` becomes this call)."""
    if not isinstance(name, str):
        raise ScriptRefused("attribute names must be text")
    problem = _attribute_problem(name)
    if problem:
        raise ScriptRefused(problem)
    if isinstance(obj, ModuleType):
        raise ScriptRefused("modules are not available to BPMN code")
    if default is _MISSING:
        return getattr(obj, name)
    return getattr(obj, name, default)


def _getitem(obj: Any, key: Any) -> Any:
    return obj[key]


def _apply(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    # Calls with *args/**kwargs are compiled to go through this hook.
    return func(*args, **kwargs)


_INPLACE: Mapping[str, Callable[[Any, Any], Any]] = MappingProxyType(
    {
        "+=": operator.iadd,
        "-=": operator.isub,
        "*=": operator.imul,
        "/=": operator.itruediv,
        "//=": operator.ifloordiv,
        "%=": operator.imod,
        "**=": operator.ipow,
        "<<=": operator.ilshift,
        ">>=": operator.irshift,
        "|=": operator.ior,
        "&=": operator.iand,
        "^=": operator.ixor,
        "@=": operator.imatmul,
    }
)


def _inplacevar(budget: Budget, op: str, target: Any, value: Any) -> Any:
    # The in-place operators keep Python's meaning: `items += [x]` extends the list
    # (after the budget's guard, for the operators that can grow a value).
    budget.check_inplace(op, target, value)
    try:
        return _INPLACE[op](target, value)
    except KeyError:
        raise ScriptRefused(f"the operator {op} is not allowed") from None


# C code inside the date classes imports these (`strftime`, `today` and `timetuple`
# import `time`; `strptime` imports `_strptime`) through the `__import__` of the
# calling code's builtins. BPMN code itself can never name `__import__`.
_INTERNAL_IMPORTS = frozenset({"time", "_strptime"})


def _internal_import(
    name: str,
    globals: Mapping[str, Any] | None = None,  # __import__'s own signature
    locals: Mapping[str, Any] | None = None,
    fromlist: tuple[str, ...] = (),
    level: int = 0,
) -> ModuleType:
    if level == 0 and name in _INTERNAL_IMPORTS:
        return builtins.__import__(name, globals, locals, fromlist, level)
    raise ScriptRefused("import is not allowed: BPMN code cannot load modules")


def _refuse_class(*_args: Any, **_kwargs: Any) -> Any:
    raise ScriptRefused("class definitions are not allowed in BPMN scripts")


_EXTRA_BUILTINS = (
    "abs all any bool dict divmod enumerate filter float frozenset int isinstance len list "
    "map max min range reversed round set sorted str sum tuple zip"
).split()

# Catching or raising these would stop the worker process, not just fail the task.
_PROCESS_EXCEPTIONS = ("BaseException", "SystemExit", "KeyboardInterrupt", "GeneratorExit")


def _safe_builtins() -> MappingProxyType[str, Any]:
    allowed = dict(safe_builtins)
    # RestrictedPython offers guarded setattr/delattr and its own getattr; BPMN code
    # has no business changing or looking up attributes by name.
    for name in ("setattr", "delattr", "_getattr_", *_PROCESS_EXCEPTIONS):
        allowed.pop(name, None)
    for name in _EXTRA_BUILTINS:
        allowed[name] = getattr(builtins, name)
    # A class statement calls this first; refusing here stops it before its body runs.
    allowed["__build_class__"] = _refuse_class
    allowed["__import__"] = _internal_import
    return MappingProxyType(allowed)


_BUILTINS = _safe_builtins()

# The names RestrictedPython's compiled code calls; user code cannot name them
# because they start with '_'.
_GUARDS: Mapping[str, Any] = MappingProxyType(
    {
        "__metaclass__": _refuse_class,
        "_getitem_": _getitem,
        "_write_": full_write_guard,
        "_iter_unpack_sequence_": guarded_iter_unpack_sequence,
        "_unpack_sequence_": guarded_unpack_sequence,
        "_apply_": _apply,
        # print() goes to a collector nobody reads, instead of failing the task.
        "_print_": BoundedPrintCollector,
    }
)

# Timer and date expressions use these. They are not SpiffWorkflow "globals": task
# data may hold a field called `date`, which then shadows the class, as in Python.
_DATE_NAMES: Mapping[str, Any] = MappingProxyType(
    {"datetime": datetime, "timedelta": timedelta, "date": date}
)


# Who acts: a context variable, so concurrent requests (threads) each see their own.
_ACTING_USER: ContextVar[str | None] = ContextVar("flowdesk_acting_user", default=None)


@contextmanager
def acting_user(username: str | None) -> Iterator[None]:
    """Let BPMN code run inside this block see `username` as `current_user()`."""
    token = _ACTING_USER.set(username)
    try:
        yield
    finally:
        _ACTING_USER.reset(token)


def current_user() -> str | None:
    """Return the username whose action runs the process now (None outside a run)."""
    return _ACTING_USER.get()


def _scope(
    context: Mapping[str, Any], external_context: Mapping[str, Any] | None, budget: Budget
) -> dict[str, Any]:
    scope = dict(_DATE_NAMES)
    scope.update(external_context or {})
    scope.update(context)
    # After the task data: submitted data cannot stand in for who is acting.
    scope["current_user"] = current_user
    # Guards last, so task data (a form field named `_getattr_`) cannot replace them.
    scope.update(_GUARDS)
    # The limits of this run (engine/bpmn/script_limits.py): guarded operators,
    # loops, growing methods and builtins, all bound to the run's budget.
    scope.update(run_guards(budget))

    def getattr_(obj: Any, name: str, default: Any = _MISSING) -> Any:
        return budget.method(obj, name, _guarded_getattr(obj, name, default))

    scope["_getattr_"] = getattr_
    scope["_inplacevar_"] = partial(_inplacevar, budget)
    # A fresh dict per run: CPython wants a real dict here to find `__import__`, and a
    # copy means nothing run in one workflow can change what the next one sees.
    run_builtins = _BUILTINS.copy()  # the proxied dict's own copy: fast
    run_builtins.update(budget.builtins())
    scope["__builtins__"] = run_builtins
    return scope


class RestrictedEnvironment(TaskDataEnvironment):
    """Run SpiffWorkflow's expressions and scripts under RestrictedPython."""

    def evaluate(
        self,
        expression: str,
        context: Mapping[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> Any:
        """Return the value of a restricted expression over the task data."""
        code = _compiled(expression, "eval")
        budget = Budget()
        result = eval(code, _scope(context, external_context, budget))  # restricted, guarded
        budget.raise_if_failed()
        check_value_size("the result", result)
        return result

    def execute(
        self,
        script: str,
        context: dict[str, Any],
        external_context: Mapping[str, Any] | None = None,
    ) -> bool:
        """Run a restricted script and update the task data in place with its variables."""
        external = dict(external_context or {})
        self.check_for_overwrite(context, external)
        code = _compiled(script, "exec")
        budget = Budget()
        scope = _scope(context, external, budget)
        try:
            exec(code, scope)  # restricted, guarded bytecode
            budget.raise_if_failed()
            # Sizes first: that walk is bounded, and bounds the next one.
            _refuse_oversized(scope, external)
            _refuse_unstorable(scope, external)
        finally:
            # SpiffWorkflow runs scripts directly in the task data, so what a failing
            # script set before the failure is kept; do the same.
            _write_back(scope, context, external)
        return True


def _refuse_oversized(scope: Mapping[str, Any], external: Mapping[str, Any]) -> None:
    """Fail the script when it leaves a value over the size limit in the task data (the
    runtime then writes nothing of the step)."""
    for key, value in scope.items():
        if key.startswith("_") or key in external or callable(value):
            continue
        check_value_size(key, value)


def _refuse_unstorable(scope: Mapping[str, Any], external: Mapping[str, Any]) -> None:
    """Fail the script when it leaves in the task data what cannot be stored (NaN,
    Infinity, a NUL character, a lone surrogate), also inside a list or dict it changed
    in place: the step fails with 422 instead of the database refusing it (a 500)."""
    for key, value in scope.items():
        if key.startswith("_") or key in external or callable(value):
            continue
        found = unstorable_at(value, key)
        if found is not None:
            raise ValueError(f"{found[0]} holds {found[1]}, which cannot be stored")


def _write_back(
    scope: Mapping[str, Any], context: dict[str, Any], external: Mapping[str, Any]
) -> None:
    for key in [k for k in context if k not in scope]:
        del context[key]  # the script ran `del key`
    for key, value in scope.items():
        if key.startswith("_") or key in external:
            continue
        # Task data holds values only: SpiffWorkflow drops functions (and our date
        # classes) from it, and modules cannot be reached at all.
        if callable(value) or isinstance(value, ModuleType):
            context.pop(key, None)
            continue
        context[key] = value


class RestrictedScriptEngine(PythonScriptEngine):
    """A PythonScriptEngine whose errors keep the cause in their message."""

    def evaluate(
        self, task: Any, expression: str, external_context: Mapping[str, Any] | None = None
    ) -> Any:
        """Evaluate an expression for a task, naming the cause when it fails."""
        try:
            return self.environment.evaluate(expression, task.data, external_context)
        except SpiffWorkflowException as exc:
            exc.add_note(f"Error evaluating expression '{expression}'")
            raise
        except Exception as exc:
            # SpiffWorkflow's own message is only "Error evaluating expression '...'",
            # which hides why; people fixing a process need the why.
            raise WorkflowTaskException(
                f"Error evaluating expression '{expression}': {_describe(exc)}",
                task=task,
                exception=exc,
                line_number=getattr(exc, "line_number", None),
            ) from exc

    def create_task_exec_exception(self, task: Any, script: str, err: Exception) -> Exception:
        """Wrap a script failure, keeping its message whatever its arguments are."""
        if isinstance(err, SpiffWorkflowException):
            return super().create_task_exec_exception(task, script, err)
        # SpiffWorkflow concatenates err.args[0], which fails for KeyError(1) and
        # the like and then escapes as a bare TypeError.
        line_number, error_line = self.get_error_line_number_and_content(script, err)
        return WorkflowTaskException(
            _describe(err),
            task=task,
            exception=err,
            line_number=line_number,
            error_line=error_line,
        )

    def get_error_line_number_and_content(self, script: str, err: Exception) -> tuple[int, str]:
        """Return the failing line of a script, including for refused scripts."""
        if isinstance(err, ScriptRefused):
            line_number = err.line_number or 0
        else:
            line_number, _ = super().get_error_line_number_and_content(script, err)
        lines = script.splitlines()
        if 0 < line_number <= len(lines):
            return line_number, lines[line_number - 1]
        return 0, ""

    def call_service(self, task: Any, **kwargs: Any) -> Any:
        """Refuse service tasks, which flowdesk does not run."""
        # The base class would fail here with a NameError of its own.
        raise WorkflowTaskException("service tasks are not supported by flowdesk", task=task)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


_ENGINE = RestrictedScriptEngine(environment=RestrictedEnvironment())


def restricted_script_engine() -> PythonScriptEngine:
    """Return the shared engine that runs every BPMN expression and script restricted."""
    # The engine and its environment keep no per-call state, so one instance serves
    # every workflow and thread.
    return _ENGINE
