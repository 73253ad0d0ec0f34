"""Study parameters declared once, as data: the CLI, the page forms and the share-link parser all
read the same schema.

Two ways to read raw values (strings from a command line or a link, or typed values from a form):
``parse`` is strict and raises one ParamError listing every problem (the CLI exits with code 2);
``parse_lenient`` never raises: it clamps out-of-range values, resets unreadable ones to their
default and ignores unknown names, returning a warning for each change (share links are untrusted).
"""
from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any, Callable, Mapping

KINDS = ("int", "float", "choice", "choices", "ints", "floats", "batch", "batches", "text")
ITEM_KIND = {"ints": "int", "floats": "float", "batches": "batch"}
MAX_TEXT = 200  # longer raw values are rejected before parsing: nothing in a schema needs more


class ParamError(ValueError):
    """Raw parameters that cannot be used; the message names each parameter and what is allowed."""


@dataclass(frozen=True)
class Param:
    """One parameter. List kinds (``ints``, ``floats``, ``batches``) hold tuples; ``batch`` is a
    positive int or the word ``"full"`` (batch gradient descent); ``text`` is read by ``reader``
    (text -> a value whose ``str`` is its canonical text; ValueError when unreadable) by the ``rule``."""

    name: str
    kind: str
    default: Any
    help: str
    group: str = "study"
    low: float | None = None
    high: float | None = None
    choices: tuple = ()
    min_len: int = 0
    max_len: int = 1
    lengths: tuple = ()  # list kinds: the only lengths allowed, when not every one in min..max is
    unique: bool = True  # list kinds: drop repeats (a rate tried twice); False where order and repeats
                         # mean something (hidden layer sizes 100,100 are two layers)
    reader: Callable | None = None
    rule: str = ""

    def __post_init__(self):
        if self.kind not in KINDS:
            raise ValueError(f"parameter {self.name}: unknown kind {self.kind!r}; one of {KINDS}")

    @property
    def is_list(self) -> bool:
        return self.kind in ("ints", "floats", "batches", "choices")

    def allowed(self) -> str:
        """The rule in words, for error messages and help text."""
        if self.kind == "choice":
            return "one of " + ", ".join(map(str, self.choices))
        if self.kind == "text":
            return self.rule
        if self.kind == "choices":
            return f"up to {self.max_len} comma-separated of " + ", ".join(map(str, self.choices))
        rng = f"between {_fmt(self.low)} and {_fmt(self.high)}"
        item = {"int": "a whole number", "float": "a number", "batch": "a whole number or 'full'",
                "ints": "whole numbers", "floats": "numbers", "batches": "whole numbers or 'full'"}[self.kind]
        if self.is_list:
            count = (" or ".join(map(str, self.lengths)) if self.lengths
                     else f"{self.min_len} to {self.max_len}" if self.min_len != self.max_len else str(self.min_len))
            return f"{count} comma-separated {item} {rng}"
        return f"{item} {rng}"

    # -- reading one value -----------------------------------------------------------------
    def coerce(self, raw: Any) -> Any:
        """Raw text or value -> typed value, without range checks; ValueError when unreadable."""
        if isinstance(raw, str) and len(raw) > MAX_TEXT:
            raise ValueError(f"{len(raw)} characters is too long")
        if self.kind == "text":
            return self.reader(raw)
        if self.kind == "choice":
            value = raw.strip() if isinstance(raw, str) else raw
            if value not in self.choices:
                raise ValueError(f"{raw!r} is not {self.allowed()}")
            return value
        if self.is_list:
            items = [s.strip() for s in raw.split(",") if s.strip()] if isinstance(raw, str) else list(raw)
            if self.kind == "choices":
                bad = [item for item in items if item not in self.choices]
                if bad:
                    raise ValueError(f"{bad[0]!r} is not one of {', '.join(self.choices)}")
                return tuple(items)
            return tuple(_scalar(ITEM_KIND[self.kind], item) for item in items)
        return _scalar(self.kind, raw)

    def limit(self, value: Any) -> tuple[Any, str | None]:
        """Clamp a typed value to the limits; returns it with a note when it had to change."""
        if self.kind in ("choice", "text"):  # a text's reader has checked it
            return value, None
        if not self.is_list:
            clamped = self._clamp(value)
            return clamped, None if clamped == value else f"{_fmt(value)} is outside {self.allowed()}"
        items = tuple(self._clamp(v) for v in value[: self.max_len])
        if self.unique:
            items = tuple(dict.fromkeys(items))
        if len(items) < self.min_len or (self.lengths and len(items) not in self.lengths):
            return tuple(self.default), f"needs {self.allowed()}"
        changed = items != tuple(value)
        repeats = " (no repeats)" if self.unique and len(items) < len(value[: self.max_len]) else ""
        return items, f"{','.join(map(_fmt, value))} is not {self.allowed()}{repeats}" if changed else None

    def _clamp(self, value):
        if value == "full" or self.kind == "choices":
            return value
        return min(max(value, self.low), self.high)

    def to_text(self, value: Any) -> str:
        return ",".join(map(_fmt, value)) if self.is_list else _fmt(value)


def _scalar(kind: str, raw: Any):
    text = raw.strip().lower() if isinstance(raw, str) else raw
    if text is None or text == "":
        raise ValueError("empty: a value is needed")
    if kind == "batch" and text == "full":
        return "full"
    if isinstance(text, bool):
        raise ValueError(f"{raw!r} is not a number")
    try:
        number = float(text)
    except (TypeError, ValueError):
        raise ValueError(f"{raw!r} is not a number") from None
    if not math.isfinite(number):
        raise ValueError(f"{raw!r} is not a finite number")
    if kind in ("int", "batch"):
        if number != int(number):
            raise ValueError(f"{raw!r} is not a whole number")
        return int(number)
    return number + 0.0  # -0.0 becomes 0.0: one value, one text, one stored run


def _fmt(value: Any) -> str:
    """The canonical text of a value, shared by links, the CLI and the store's keys: floats in the
    shortest form that reads back exactly (0.1234567 stays 0.1234567; 100.0 is written 100)."""
    if isinstance(value, float):
        text = repr(value + 0.0)  # never "-0"
        return text[:-2] if text.endswith(".0") else text
    return str(value)


class Schema:
    """An ordered set of Params with the two readers described in the module docstring."""

    def __init__(self, params: list[Param]):
        self.params = {p.name: p for p in params}

    def __iter__(self):
        return iter(self.params.values())

    def defaults(self) -> dict:
        return {p.name: p.default for p in self}

    def parse(self, raw: Mapping[str, Any]) -> dict:
        values, problems = self._read(raw)
        if problems:
            raise ParamError("; ".join(problem for _, problem, _ in problems))
        return values

    def problems(self, raw: Mapping[str, Any]) -> dict[str, str]:
        """What is wrong with each named value of ``raw`` (a form's fields), by name: what a form
        shows beside each field."""
        return {name: problem for name, problem, _ in self._read(raw)[1]}

    def parse_lenient(self, raw: Mapping[str, Any]) -> tuple[dict, list[str]]:
        values, problems = self._read(raw)
        return values, [f"{problem} - {action}" for _, problem, action in problems]

    def _read(self, raw: Mapping[str, Any]) -> tuple[dict, list[tuple[str, str, str]]]:
        """Typed values (defaults where raw says nothing usable) and (name, problem, what was done)."""
        values, problems = self.defaults(), []
        for name, text in raw.items():
            param = self.params.get(name)
            if param is None:
                problems.append((name, f"unknown parameter {str(name)[:40]!r} (known: {', '.join(self.params)})",
                                 "ignored"))
                continue
            try:
                value = param.coerce(text)
            except ValueError as exc:
                problems.append((name, f"{name}: {exc}; expected {param.allowed()}",
                                 f"kept the default {param.to_text(param.default)}"))
                continue
            values[name], note = param.limit(value)
            if note:
                problems.append((name, f"{name}: {note}", f"using {param.to_text(values[name])}"))
        return values, problems

    def to_texts(self, values: Mapping[str, Any]) -> dict[str, str]:
        """Typed values -> the strings a command line or a share link carries."""
        return {name: self.params[name].to_text(v) for name, v in values.items() if name in self.params}


def without(params: list[Param], *names: str) -> list[Param]:
    """The params less those a study sweeps itself (a fixed value would be ignored)."""
    return [p for p in params if p.name not in names]


def with_defaults(params: list[Param], **defaults) -> list[Param]:
    """The same params with some defaults changed (each study picks its own quick defaults)."""
    unknown = set(defaults) - {p.name for p in params}
    if unknown:
        raise KeyError(f"no such params: {sorted(unknown)}")
    return [replace(p, default=defaults[p.name]) if p.name in defaults else p for p in params]
