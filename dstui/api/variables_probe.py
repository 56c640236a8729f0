"""The variables probe: one Python statement that lists a kernel's user globals as one JSON line.

The statement is `(lambda ...: exec(compile(SOURCE, ...), {...}))()`: an expression whose value
is None, so IPython's display hook leaves `_`, `__` and `Out` alone, and whose own work happens
in a fresh namespace, so it binds, changes and deletes nothing among the user's names. Like any
run, it does appear in the kernel's input history (`In`, `_i<N>`, the execution count).

Inside the kernel each value is described in a helper thread with a time limit, so a
`__repr__`, `__len__` or `__sizeof__` that raises, sleeps or lies costs one field, not the
probe. numpy and pandas are used only when the kernel has already imported them.
It needs nothing but stdout, so it works against a real pool too.
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from typing import Any

from dstui.api.errors import DynamicSessionsError
from dstui.api.protocol import SessionPoolAPI
from dstui.api.run_options import RunOptions
from dstui.common.secret_text import encodable

PROBE_FORMAT = "dstui-variables/1"
REPR_CHARS = 120  # a row's repr is cut to this many characters (the cut ends in "…")
MAX_ROWS = 400  # rows beyond this are counted but not sent
MAX_JSON_CHARS = 96_000  # the probe stops adding rows before its line grows past this
PROBE_OUTPUT_CAP = 131_072  # the stdout cap asked of the service for the probe's run
PROBE_TIMEOUT_S = 30
PER_VALUE_S = 0.5  # how long one value may take to describe
TOTAL_S = 4.0  # after this, remaining values get their type only

CATEGORIES = ("variable", "module", "function", "class", "ipython")
"""Every row has one; all but "variable" are hidden unless the probe is asked to show all."""

# Runs in the kernel with these globals: ns (the user's globals), show_all, marker, limits.
_KERNEL_SOURCE = r"""
import json, re, sys, threading, time, types, reprlib

_IPY_NAMES = {"In", "Out", "get_ipython", "exit", "quit", "_", "__", "___", "_i", "_ii",
              "_iii", "_ih", "_oh", "_dh", "_sh"}
_IPY_PATTERN = re.compile(r"_i?\d+")
_FUNCTIONS = (types.FunctionType, types.BuiltinFunctionType, types.MethodType,
              types.BuiltinMethodType, types.MethodWrapperType, types.WrapperDescriptorType)
_TIMED_OUT = object()
class _Short(reprlib.Repr):
    def repr_instance(self, value, level):
        if level == self.maxlevel:  # the value itself: its own failure is worth saying
            return repr(value)
        return super().repr_instance(value, level)

_shorten = _Short()
_shorten.maxstring = _shorten.maxother = limits["repr"] + 20
_shorten.maxlist = _shorten.maxtuple = _shorten.maxset = _shorten.maxdict = 8
_shorten.maxlevel = 3

def ipython_own_names():
    # What IPython itself put in the namespace (its `open`, `exit`...), as %who hides it.
    try:
        shell = sys.modules["IPython"].get_ipython()
        hidden = shell.user_ns_hidden
        return hidden if isinstance(hidden, dict) else {}
    except Exception:
        return {}

_IPY_OWN = ipython_own_names()

def from_ipython(name, value):
    return name in _IPY_OWN and _IPY_OWN[name] is value

def category(name, value, kind):
    if name in _IPY_NAMES or _IPY_PATTERN.fullmatch(name) or (
            name.startswith("__") and name.endswith("__")) or from_ipython(name, value):
        return "ipython"
    if issubclass(kind, types.ModuleType):
        return "module"
    if issubclass(kind, _FUNCTIONS):
        return "function"
    if issubclass(kind, type):
        return "class"
    return "variable"

def type_name(kind):
    try:
        module, name = kind.__module__, kind.__qualname__
        if not isinstance(name, str):
            name = "?"
        plain = module in ("builtins", "__main__") or not isinstance(module, str)
        return name if plain else module + "." + name
    except Exception:
        return "?"

def loaded_module_for(value, module):
    found = sys.modules.get(module)
    return found if found is not None and type(value).__module__.startswith(module) else None

def sized(value, kind):
    np, pd = loaded_module_for(value, "numpy"), loaded_module_for(value, "pandas")
    if np is not None and isinstance(value, np.ndarray):
        return [int(n) for n in value.shape], None, int(value.nbytes)
    if pd is not None and isinstance(value, (pd.DataFrame, pd.Series)):
        usage = value.memory_usage(index=True, deep=False)
        usage = usage if isinstance(usage, int) else usage.sum()
        return [int(n) for n in value.shape], None, int(usage)
    length = None
    if hasattr(kind, "__len__") and not issubclass(kind, type):
        try:
            length = len(value)
        except Exception:
            length = None
    return None, length, approximate_size(value, kind)

def approximate_size(value, kind):
    try:
        size = sys.getsizeof(value)
    except Exception:
        return None
    if kind in (list, tuple, set, frozenset) and len(value) <= 10000:
        size += sum(sys.getsizeof(item) for item in value if type(item) in _SCALARS)
    elif kind is dict and len(value) <= 10000:
        size += sum(sys.getsizeof(v) for v in value.values() if type(v) in _SCALARS)
    return size

_SCALARS = (int, float, bool, complex, str, bytes, type(None))

def short_repr(value):
    try:
        text = _shorten.repr(value)
        if not isinstance(text, str):
            return "<repr is not text>"
    except Exception as exc:
        return "<repr failed: " + type(exc).__name__ + ">"
    return text if len(text) <= limits["repr"] else text[: limits["repr"] - 1] + "\u2026"

def describe(value, kind):
    try:
        shape, length, size = sized(value, kind)
    except Exception:
        shape, length, size = None, None, None
    return shape, length, size, short_repr(value)

def guarded(value, kind, seconds):
    if kind in _SCALARS:
        return describe(value, kind)
    box = []
    worker = threading.Thread(target=lambda: box.append(describe(value, kind)),
                              name="dstui-variables", daemon=True)
    worker.start()
    worker.join(seconds)
    return box[0] if box else _TIMED_OUT

def main():
    started = time.monotonic()
    rows, counts, used, truncated, slow = [], {}, 0, False, 0
    for name, value in sorted(list(ns.items()), key=lambda item: str(item[0])):
        if not isinstance(name, str):
            continue
        kind = type(value)
        group = category(name, value, kind)
        counts[group] = counts.get(group, 0) + 1
        if (group != "variable" and not show_all) or truncated:
            continue
        left = limits["total_s"] - (time.monotonic() - started)
        facts = guarded(value, kind, min(limits["value_s"], left)) if left > 0 else _TIMED_OUT
        if facts is _TIMED_OUT:
            slow += 1
            shape, length, size, text = None, None, None, None
        else:
            shape, length, size, text = facts
        if isinstance(size, int) and not 0 <= size < 2 ** 63:
            size = None
        row = {"name": name[:200], "type": type_name(kind)[:120], "category": group,
               "shape": shape, "length": length, "size": size, "repr": text,
               "timed_out": facts is _TIMED_OUT}
        line = json.dumps(row, ensure_ascii=True)
        if len(rows) >= limits["rows"] or used + len(line) > limits["json"]:
            truncated = True
            continue
        rows.append(row)
        used += len(line) + 1
    return {"counts": counts, "rows": rows, "truncated": truncated, "timed_out": slow,
            "elapsed_ms": round((time.monotonic() - started) * 1000, 1)}

try:
    report = main()
except Exception as exc:
    report = {"error": type(exc).__name__ + ": " + str(exc)[:300]}
print(marker + " " + json.dumps(report, ensure_ascii=True, separators=(",", ":")))
"""


class ProbeError(DynamicSessionsError):
    """The probe ran but its answer cannot be used (no line, malformed, cut, or an error)."""

    default_hint = "The kernel may be busy or not Python; try again, or run `globals()` yourself."


@dataclass(frozen=True, slots=True)
class VariableRow:
    """One user global. `shape` is for arrays and frames (numpy, pandas), `length` for other
    sized values; `size_bytes` is approximate (shallow, one level deep for plain containers);
    `repr` is at most REPR_CHARS characters, None when describing the value ran out of time."""

    name: str
    type_name: str
    category: str  # one of CATEGORIES
    shape: tuple[int, ...] | None = None
    length: int | None = None
    size_bytes: int | None = None
    repr: str | None = None
    timed_out: bool = False

    @property
    def hidden_by_default(self) -> bool:
        return self.category != "variable"

    @property
    def extent(self) -> str:
        """Shape as "3×4", else the length, else ""."""
        if self.shape is not None:
            return "×".join(str(n) for n in self.shape) or "scalar"
        return "" if self.length is None else str(self.length)


@dataclass(frozen=True, slots=True)
class VariablesReport:
    rows: tuple[VariableRow, ...]
    counts: dict[str, int]  # names seen per category, shown or not
    truncated: bool  # more rows existed than were sent (MAX_ROWS / MAX_JSON_CHARS)
    timed_out: int  # values whose description ran out of time
    elapsed_ms: float  # the probe's own time in the kernel
    show_all: bool

    @property
    def hidden(self) -> int:
        """How many names the probe left out because of their category."""
        if self.show_all:
            return 0
        return sum(n for group, n in self.counts.items() if group != "variable")


def probe_code(*, show_all: bool = False, marker: str | None = None) -> str:
    """The probe statement. `marker` starts its output line (a fresh random one by default,
    so that nothing the user's code prints can pass for the answer)."""
    marker = marker or new_marker()
    limits = {
        "repr": REPR_CHARS,
        "rows": MAX_ROWS,
        "json": MAX_JSON_CHARS,
        "value_s": PER_VALUE_S,
        "total_s": TOTAL_S,
    }
    names = f"{{'__builtins__': b, 'ns': b.globals(), 'show_all': {show_all!r}, "
    names += f"'marker': {marker!r}, 'limits': {limits!r}}}"
    return (
        f"(lambda b=__import__('builtins'): b.exec(b.compile({_KERNEL_SOURCE!r}, "
        f"'<dstui-variables>', 'exec'), {names}))()"
    )


def new_marker() -> str:
    return f"{PROBE_FORMAT}:{secrets.token_hex(8)}"


def parse_probe_output(
    stdout: str, marker: str, *, show_all: bool = False, truncated: bool = False
) -> VariablesReport:
    """The report in `stdout`; `truncated` says the service cut stdout. Raises ProbeError."""
    line = next(
        (row for row in reversed(stdout.splitlines()) if row.startswith(marker + " ")), None
    )
    if line is None:
        if truncated or len(stdout) >= PROBE_OUTPUT_CAP:
            raise ProbeError(
                f"the probe's output was cut at {len(stdout):,} characters",
                hint="The kernel printed too much; try again.",
            )
        raise ProbeError("the variables probe printed no answer line")
    try:
        data = json.loads(line[len(marker) + 1 :])
    except (ValueError, RecursionError):  # RecursionError: nested too deep to be the probe's
        raise ProbeError("the variables probe's answer is not valid JSON (was it cut?)") from None
    if not isinstance(data, dict):
        raise ProbeError("the variables probe's answer is not a JSON object")
    if "error" in data:
        raise ProbeError(f"the variables probe failed in the kernel: {_text(data['error'])}")
    rows = data.get("rows")
    if not isinstance(rows, list):
        raise ProbeError("the variables probe's answer has no rows")
    counts = data.get("counts")
    return VariablesReport(
        rows=tuple(_row(item) for item in rows),
        counts={
            _text(k): v
            for k, v in (counts.items() if isinstance(counts, dict) else ())
            if _is_int(v)
        },
        truncated=data.get("truncated") is True,
        timed_out=data["timed_out"] if _is_int(data.get("timed_out")) else 0,
        elapsed_ms=_milliseconds(data.get("elapsed_ms")),
        show_all=show_all,
    )


async def probe_variables(
    pool: SessionPoolAPI, identifier: str, *, show_all: bool = False
) -> VariablesReport:
    """Run the probe in session `identifier` (this touches the session: it resets its
    cooldown, or creates it if it does not exist) and return the parsed report."""
    marker = new_marker()
    execution = await pool.execute(
        identifier,
        probe_code(show_all=show_all, marker=marker),
        RunOptions(timeout=PROBE_TIMEOUT_S, output_max_length=PROBE_OUTPUT_CAP),
    )
    if not execution.succeeded:
        detail = (execution.stderr or "").strip().splitlines()
        reason = detail[-1] if detail else execution.status.value
        raise ProbeError(f"the variables probe did not finish: {encodable(reason)[:300]}")
    return parse_probe_output(
        execution.stdout, marker, show_all=show_all, truncated=execution.stdout_truncated
    )


def _row(item: Any) -> VariableRow:
    if not isinstance(item, dict) or not isinstance(item.get("name"), str):
        raise ProbeError("a row of the variables probe's answer is malformed")
    shape = item.get("shape")
    category = item.get("category")
    return VariableRow(
        name=_text(item["name"]),
        type_name=_text(item.get("type", "?")),
        category=category if category in CATEGORIES else "variable",
        shape=tuple(shape) if isinstance(shape, list) and all(map(_is_int, shape)) else None,
        length=item["length"] if _is_int(item.get("length")) else None,
        size_bytes=item["size"] if _is_int(item.get("size")) else None,
        repr=_text(item["repr"])[: REPR_CHARS + 1] if isinstance(item.get("repr"), str) else None,
        timed_out=item.get("timed_out") is True,
    )


def _text(value: object) -> str:
    return encodable(value if isinstance(value, str) else str(value))


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _milliseconds(value: object) -> float:
    """The probe's own time, or 0.0 for anything that is not a plausible duration."""
    if not (_is_int(value) or isinstance(value, float)):
        return 0.0
    try:
        number = float(value)  # type: ignore[arg-type]
    except OverflowError:  # an integer too large for a float
        return 0.0
    return number if 0 <= number < 1e12 else 0.0
