"""Time and size limits for BPMN code, so one script cannot stall or bloat the server.

A single C call (`sum(range(10**11))`, `'a' * 10**8`, `10 ** 10**10`) holds the GIL
until it returns: no watchdog thread can interrupt it and the whole process stops
answering. So the compiler rewrites the operations that can grow a value without
bound into guarded helpers that refuse a too-big result *before* computing it:

- `*`, `**`, `<<`, `+` and `%` (also as `*=`, ...) become `_mul_`, `_pow_`, ...;
- `range`, `pow` and `sum` are replaced by guarded builtins;
- the growing methods of text, bytes and lists (`join`, `ljust`, `replace`,
  `extend`, ...) are wrapped when looked up through `_getattr_`;
- f-string fields go through `_format_`, which refuses huge widths and values,
  and `str`, `repr` and `print` refuse to write a too-big value as text.

Python-level work (loops, comprehensions, recursion) is bounded by a per-run
`Budget`: every loop iteration (through `_getiter_` and a `_tick_()` put at the top
of every `while` body), function call and lambda checks the run's deadline, and
every few milliseconds how much the process grew. Guarded operations also charge
what they build to the budget, so a loop cannot pile up data faster than it is
checked.

Every refusal is a `ScriptLimitExceeded`; the runtime turns it into a 422 naming the
element. A refused time limit is sticky: a script that catches it still fails.
"""

from __future__ import annotations

import ast
import builtins
import re
import resource
import time
from collections.abc import Callable, Iterable, Iterator
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any, cast

from RestrictedPython.PrintCollector import PrintCollector
from RestrictedPython.transformer import RestrictingNodeTransformer

TIME_LIMIT_SECONDS = 2.0
"""How long one script, condition or expression may run."""

SIZE_LIMIT = 1_000_000
"""The largest value (about its JSON size in bytes) BPMN code may build or keep."""

MAX_INT_BITS = 100_000
"""The largest integer BPMN code may compute (about 30,000 digits): bigger ones make
multiplication and division slow C calls."""

MAX_RANGE = 1_000_000
"""The longest `range` BPMN code may create."""

BUILD_LIMIT = 50 * SIZE_LIMIT
"""What one run may build in all through guarded operations, however often it frees it."""

MEMORY_GROWTH_LIMIT = 256 * 1024 * 1024
"""How much the process's peak memory may grow while one run is going on."""

_CHECK_SECONDS = 0.005

_SEQUENCES = (str, bytes, bytearray, list, tuple)
# The width and precision of a %-format field: `%-10.3f`, `%(name)20s`.
_PRINTF_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\d*)(?:\.(\d*))?")
_TEXTS = (str, bytes, bytearray)


class ScriptLimitExceeded(Exception):
    """BPMN code ran too long or built a value too big."""


def size_of(value: Any, limit: int = SIZE_LIMIT) -> int:
    """Return about the JSON size of `value` in bytes, stopping soon after it passes `limit`.

    Shared references count every time they appear, as JSON would write them; the
    walk stops as soon as the total passes `limit`, so it is bounded by `limit`
    steps however big the structure claims to be.
    """
    total = 0
    stack = [value]
    while stack:
        item = stack.pop()
        kind = type(item)
        if kind is str or kind is bytes or kind is bytearray:
            total += len(item) + 2
        elif kind is int:
            total += item.bit_length() * 3 // 10 + 1
        elif kind is list or kind is tuple or kind is set or kind is frozenset:
            total += len(item) + 2
            if total > limit:
                return total
            stack.extend(item)
        elif kind is dict:
            total += 2 * len(item) + 2
            if total > limit:
                return total
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, (datetime, date, timedelta)):
            total += 32
        else:  # None, bool, float and other small objects
            total += 8
        if total > limit:
            return total
    return total


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:g} MB"


def _too_big(what: str) -> ScriptLimitExceeded:
    return ScriptLimitExceeded(f"{what} would be larger than {_megabytes(SIZE_LIMIT)}")


def check_value_size(name: str, value: Any) -> None:
    """Refuse a value BPMN code leaves behind when it is larger than the size limit."""
    if size_of(value) > SIZE_LIMIT:
        raise ScriptLimitExceeded(f"the value of '{name}' is larger than {_megabytes(SIZE_LIMIT)}")


def _peak_memory() -> int:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


# ---------------------------------------------------------------- text from any value

# `str(x)`, `repr(x)` and `print(x)` turn a whole structure into text in one C call;
# a list holding itself twice, nested 40 times, is small in memory and huge as text.


def _refuse_big_text(value: Any) -> None:
    if size_of(value) > SIZE_LIMIT:
        raise _too_big("the text")


class _TextType(type):
    # `isinstance(x, str)` and `issubclass` keep working with the guarded `str`.
    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, str)

    def __subclasscheck__(cls, subclass: type) -> bool:
        return issubclass(subclass, str)


class GuardedStr(str, metaclass=_TextType):
    """`str` for BPMN code: refuses to write a value larger than the size limit as text."""

    def __new__(cls, value: Any = "", *args: Any) -> Any:  # noqa: D102
        if args:  # str(b"...", "utf-8"): decoding, bounded by the bytes
            return str(value, *args)
        _refuse_big_text(value)
        return str(value)


def guarded_repr(value: Any) -> str:
    """`repr` for BPMN code: refuses to write a value larger than the size limit as text."""
    _refuse_big_text(value)
    return repr(value)


class BoundedPrintCollector(PrintCollector):
    """RestrictedPython's `print` target, refusing huge values and keeping at most 1 MB."""

    def write(self, text: str) -> None:
        """Keep printed text up to the size limit."""
        if sum(len(t) for t in self.txt) + len(text) > SIZE_LIMIT:
            raise _too_big("the printed text")
        super().write(text)

    def _call_print(self, *objects: Any, **kwargs: Any) -> None:
        for value in objects:
            _refuse_big_text(value)
        super()._call_print(*objects, **kwargs)


# ---------------------------------------------------------------- the per-run budget


class Budget:
    """The time and data one run of BPMN code may use; its methods are the run's guards."""

    def __init__(self) -> None:
        now = time.monotonic()
        self.deadline = now + TIME_LIMIT_SECONDS
        self.next_check = now + _CHECK_SECONDS
        self.memory_at_start = _peak_memory()
        self.built = 0
        self.failure: ScriptLimitExceeded | None = None

    def fail(self, exc: ScriptLimitExceeded) -> ScriptLimitExceeded:
        """Remember a refusal, so that code catching it still fails, and return it."""
        self.failure = self.failure or exc
        return exc

    def tick(self) -> None:
        """Refuse to go on once the run is past its deadline or the process grew too much."""
        now = time.monotonic()
        if now < self.next_check:
            return  # the deadline and memory are looked at every few milliseconds
        if now > self.deadline:
            raise self.fail(
                ScriptLimitExceeded(f"the code ran longer than {TIME_LIMIT_SECONDS:g} seconds")
            )
        self.next_check = now + _CHECK_SECONDS
        if _peak_memory() - self.memory_at_start > MEMORY_GROWTH_LIMIT:
            raise self.fail(ScriptLimitExceeded("the code used too much memory"))

    def charge(self, size: int) -> None:
        """Count `size` bytes built by a guarded operation against the run's total."""
        self.built += size
        if self.built > BUILD_LIMIT:
            raise self.fail(
                ScriptLimitExceeded(f"the code built more than {_megabytes(BUILD_LIMIT)} of data")
            )

    def raise_if_failed(self) -> None:
        """Re-raise a refusal the code caught and went on after."""
        if self.failure is not None:
            raise self.failure

    def iterate(self, iterable: Iterable[Any]) -> Iterator[Any]:
        """Iterate like `iter`, checking the budget before every item (`_getiter_`)."""
        clock = time.monotonic
        for item in iterable:
            # `tick` inlined for its cheap part: this runs for every loop iteration.
            if clock() >= self.next_check:
                self.tick()
            yield item

    # ------------------------------------------------------------ guarded operators

    def _sized(self, size: int, what: str) -> None:
        if size > SIZE_LIMIT:
            raise self.fail(_too_big(what))
        self.charge(size)

    def _check_mul(self, a: Any, b: Any) -> None:
        if isinstance(a, int) and isinstance(b, int):
            if a.bit_length() + b.bit_length() > MAX_INT_BITS:
                raise self.fail(ScriptLimitExceeded("the number would be too large"))
        elif isinstance(a, int) or isinstance(b, int):
            sequence, count = (b, a) if isinstance(a, int) else (a, b)
            if isinstance(sequence, _TEXTS):
                self._sized(len(sequence) * count, "the repeated text")
            elif isinstance(sequence, (list, tuple)) and count > 0 and sequence:
                item_size = size_of(sequence, SIZE_LIMIT // count + 1)
                self._sized(item_size * count, "the repeated list")

    def _check_pow(self, a: Any, b: Any, modulo: Any = None) -> None:
        if isinstance(a, int) and isinstance(b, int) and b > 0:
            if modulo is None:
                if abs(a) > 1 and b * a.bit_length() > MAX_INT_BITS:
                    raise self.fail(ScriptLimitExceeded("the number would be too large"))
            elif isinstance(modulo, int) and b.bit_length() * modulo.bit_length() > MAX_INT_BITS:
                raise self.fail(ScriptLimitExceeded("the number would be too large"))

    def _check_lshift(self, a: Any, b: Any) -> None:
        if isinstance(a, int) and isinstance(b, int) and b > 0 and a:
            if a.bit_length() + b > MAX_INT_BITS:
                raise self.fail(ScriptLimitExceeded("the number would be too large"))

    def _check_add(self, a: Any, b: Any) -> None:
        if isinstance(a, _SEQUENCES) and isinstance(b, _SEQUENCES):
            self._sized(len(a) + len(b), "the joined value")

    def _check_mod(self, a: Any, b: Any) -> None:
        if isinstance(a, _TEXTS):
            arguments = b if isinstance(b, tuple) else (b,)
            size = len(a) + sum(size_of(argument) for argument in arguments)
            text = a if isinstance(a, str) else a.decode("latin-1")
            size += sum(int(n or 0) for spec in _PRINTF_SPEC.findall(text) for n in spec)
            if "*" in text:
                size += sum(abs(x) for x in arguments if isinstance(x, int))
            self._sized(size, "the formatted text")

    def mul(self, a: Any, b: Any) -> Any:
        """`a * b`, refusing repetition or integers beyond the limits."""
        self._check_mul(a, b)
        return a * b

    def pow(self, a: Any, b: Any, modulo: Any = None) -> Any:
        """`a ** b` and `pow(a, b[, m])`, refusing integers beyond the limits."""
        self._check_pow(a, b, modulo)
        return builtins.pow(a, b) if modulo is None else builtins.pow(a, b, modulo)

    def lshift(self, a: Any, b: Any) -> Any:
        """`a << b`, refusing integers beyond the limits."""
        self._check_lshift(a, b)
        return a << b

    def add(self, a: Any, b: Any) -> Any:
        """`a + b`, refusing to join texts or lists beyond the size limit."""
        self._check_add(a, b)
        return a + b

    def mod(self, a: Any, b: Any) -> Any:
        """`a % b`, refusing %-formatting whose result could pass the size limit."""
        self._check_mod(a, b)
        return a % b

    def check_inplace(self, op: str, target: Any, value: Any) -> None:
        """Refuse an augmented assignment (`x *= n`) whose result passes the limits."""
        check = self._inplace_checks.get(op)
        if check is not None:
            check(self, target, value)

    _inplace_checks: dict[str, Callable[..., None]] = {
        "*=": _check_mul,
        "**=": _check_pow,
        "<<=": _check_lshift,
        "+=": _check_add,
        "%=": _check_mod,
    }

    def format_field(self, value: Any, conversion: int, spec: str) -> str:
        """One f-string field `{value!r:spec}`, refusing huge widths and values."""
        if size_of(value) > SIZE_LIMIT:
            raise self.fail(_too_big("the text"))
        if sum(int(n) for n in re.findall(r"\d+", spec)) > SIZE_LIMIT:
            raise self.fail(_too_big("the text"))
        if conversion == ord("r"):
            value = repr(value)
        elif conversion == ord("s"):
            value = str(value)
        elif conversion == ord("a"):
            value = ascii(value)
        return format(value, spec)

    # ------------------------------------------------------------ guarded builtins

    def range(self, *args: Any) -> range:
        """`range`, refusing ranges longer than MAX_RANGE."""
        result = range(*args)
        if len(result) > MAX_RANGE:
            raise self.fail(ScriptLimitExceeded(f"range() is limited to {MAX_RANGE:,} numbers"))
        self.charge(len(result))
        return result

    def sum(self, iterable: Iterable[Any], start: Any = 0) -> Any:
        """`sum`, adding texts, lists and big numbers through the guarded `+`."""
        if isinstance(start, (int, float)) and not isinstance(start, bool):
            total: Any = start
            for item in iterable:
                if isinstance(item, int) and item.bit_length() > MAX_INT_BITS // 2:
                    raise self.fail(ScriptLimitExceeded("the number would be too large"))
                total = total + item
            return total
        total = start
        for item in iterable:
            total = self.add(total, item)
        return total

    def builtins(self) -> dict[str, Any]:
        """Return the guarded builtins that replace Python's own in a run."""
        return {
            "range": self.range,
            "sum": self.sum,
            "pow": self.pow,
            "str": GuardedStr,
            "repr": guarded_repr,
        }

    # ------------------------------------------------------------ growing methods

    def method(self, obj: Any, name: str, found: Any) -> Any:
        """Return the guarded form of `obj.name` when it can grow a value, else `found`."""
        guard = _METHOD_GUARDS.get(name)
        if guard is None:
            return found
        if isinstance(obj, type):
            if obj is GuardedStr:
                obj, found = str, getattr(str, name)
            if obj in _GUARDED_TYPES[name]:
                return partial(guard, self, found)  # str.join(sep, items): self comes first
            return found
        if isinstance(obj, _GUARDED_TYPES[name]):
            return partial(guard, self, getattr(type(obj), name), obj)
        return found


def _join(budget: Budget, method: Any, separator: Any, items: Iterable[Any]) -> Any:
    items = list(items)
    size = sum(len(item) for item in items if isinstance(item, _TEXTS))
    size += len(separator) * max(len(items) - 1, 0)
    budget._sized(size, "the joined text")
    return method(separator, items)


def _pad(budget: Budget, method: Any, text: Any, width: Any, *args: Any) -> Any:
    if isinstance(width, int):
        budget._sized(width, "the padded text")
    return method(text, width, *args)


def _expandtabs(budget: Budget, method: Any, text: Any, tabsize: Any = 8) -> Any:
    tab = "\t" if isinstance(text, str) else b"\t"
    if isinstance(tabsize, int):
        budget._sized(len(text) + text.count(tab) * tabsize, "the text")
    return method(text, tabsize)


def _replace(budget: Budget, method: Any, text: Any, old: Any, new: Any, count: Any = -1) -> Any:
    if isinstance(old, _TEXTS) and isinstance(new, _TEXTS) and isinstance(count, int):
        found = text.count(old) if old else len(text) + 1
        if count >= 0:
            found = min(found, count)
        budget._sized(len(text) + found * (len(new) - len(old)), "the text")
    return method(text, old, new, count)


def _translate(budget: Budget, method: Any, text: Any, table: Any, *args: Any) -> Any:
    if isinstance(table, dict):
        longest = max((len(v) for v in table.values() if isinstance(v, str)), default=1)
        budget._sized(len(text) * max(longest, 1), "the translated text")
    return method(text, table, *args)


def _extend(budget: Budget, method: Any, target: Any, items: Iterable[Any]) -> Any:
    items = list(items)
    budget._sized(len(target) + len(items), "the list")
    return method(target, items)


_METHOD_GUARDS: dict[str, Callable[..., Any]] = {
    "join": _join,
    "ljust": _pad,
    "rjust": _pad,
    "center": _pad,
    "zfill": _pad,
    "expandtabs": _expandtabs,
    "replace": _replace,
    "translate": _translate,
    "extend": _extend,
}
_GUARDED_TYPES: dict[str, tuple[type, ...]] = {
    name: (list,) if name == "extend" else ((str,) if name == "translate" else _TEXTS)
    for name in _METHOD_GUARDS
}


# ---------------------------------------------------------------- the compiler's part

_OPERATOR_HELPERS: dict[type[ast.operator], str] = {
    ast.Mult: "_mul_",
    ast.Pow: "_pow_",
    ast.LShift: "_lshift_",
    ast.Add: "_add_",
    ast.Mod: "_mod_",
}


def _call(name: str, args: list[ast.expr], like: ast.AST) -> ast.Call:
    call = ast.Call(func=ast.Name(id=name, ctx=ast.Load()), args=args, keywords=[])
    return ast.fix_missing_locations(ast.copy_location(call, like))


def _tick(like: ast.AST) -> ast.Expr:
    return ast.copy_location(ast.Expr(value=_call("_tick_", [], like)), like)


class LimitingPolicy(RestrictingNodeTransformer):
    """RestrictedPython's transformer, also routing growing operations through guards."""

    def visit_BinOp(self, node: ast.BinOp) -> Any:
        """Route `*`, `**`, `<<`, `+` and `%` through their guards."""
        node = cast(ast.BinOp, super().visit_BinOp(node))
        helper = _OPERATOR_HELPERS.get(type(node.op))
        if helper is None:
            return node
        return _call(helper, [node.left, node.right], node)

    def visit_While(self, node: ast.While) -> Any:
        """Check the budget at the top of every `while` iteration."""
        node = cast(ast.While, super().visit_While(node))
        node.body.insert(0, _tick(node))
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> Any:
        """Check the budget on every call of a function (recursion has no loop)."""
        node = cast(ast.FunctionDef, super().visit_FunctionDef(node))
        node.body.insert(0, _tick(node))
        return node

    def visit_Lambda(self, node: ast.Lambda) -> Any:
        """Check the budget on every call of a lambda: `lambda: _tick_() or body`."""
        node = cast(ast.Lambda, super().visit_Lambda(node))
        node.body = ast.copy_location(
            ast.BoolOp(op=ast.Or(), values=[_call("_tick_", [], node), node.body]), node
        )
        return node

    def visit_FormattedValue(self, node: ast.FormattedValue) -> Any:
        """Format every f-string field through the guard."""
        node = cast(ast.FormattedValue, super().visit_FormattedValue(node))
        spec: ast.expr = node.format_spec or ast.Constant(value="")
        value = _call("_format_", [node.value, ast.Constant(value=node.conversion), spec], node)
        return ast.copy_location(
            ast.FormattedValue(value=value, conversion=-1, format_spec=None), node
        )


def run_guards(budget: Budget) -> dict[str, Any]:
    """Return the names compiled BPMN code calls for its limits, bound to `budget`."""
    return {
        "_tick_": budget.tick,
        "_getiter_": budget.iterate,
        "_mul_": budget.mul,
        "_pow_": budget.pow,
        "_lshift_": budget.lshift,
        "_add_": budget.add,
        "_mod_": budget.mod,
        "_format_": budget.format_field,
    }
