"""Settings: every configurable table is a frozen dataclass whose fields are ``param()``s, read
through :func:`read_settings`, the one validator.

A field's ``param(default, why, choices, bounds)`` is the only place its default stands; the
reason goes to ``vidlint rules``, ``vidlint explain`` and the docs. The validator names the key
and the file on every refusal: an unknown key, a wrong type (a string is never a number), a
value outside the declared choices or bounds. Cross-field checks live in the dataclass's
``__post_init__`` (a ``ValueError`` there becomes the same kind of error).
"""

from __future__ import annotations

import dataclasses
import functools
import math
import types
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from vidlint.errors import ConfigError

T = TypeVar("T")


def param(
    default: Any,
    why: str,
    choices: tuple[Any, ...] = (),
    bounds: tuple[float, float] | None = None,
) -> Any:
    """A setting's default with the reason for it. ``choices`` (the only meaningful values; for
    a tuple, of each item) or ``bounds`` (lowest, highest) are checked when the config loads,
    so a value the code cannot work with is a config error naming its file, not a crash in the
    middle of a batch. Dict and list defaults are copied for each instance."""
    metadata = {"why": why, "choices": choices, "bounds": bounds}
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class NoParams:
    """For analyzers and rules without settings."""


def defaults(cls: type) -> dict[str, Any]:
    """Each field's default."""
    return {f.name: _default(f) for f in dataclasses.fields(cls)}


def reasons(cls: type) -> dict[str, str]:
    """Each field's documented reason for its default."""
    return {f.name: f.metadata.get("why", "") for f in dataclasses.fields(cls)}


def check_values(
    cls: type,
    values: Mapping[str, Any],
    where: str,
    origin: str,
    *,
    positive: bool = False,
) -> dict[str, Any]:
    """``values`` checked against the fields of ``cls`` and converted to their declared types
    (a TOML array becomes a tuple, an integer a float where a float is declared). With
    ``positive``, numbers without declared bounds or choices must be above 0 (thresholds that
    rules divide by, counts, durations and factors)."""
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = _hints(cls)
    typed: dict[str, Any] = {}
    for key, value in values.items():
        name = f"{where}.{key}" if where else key
        if key not in fields:
            known = ", ".join(fields) or "none"
            raise ConfigError(f"unknown key '{name}' (known: {known})", origin)
        try:
            typed[key] = _convert(value, hints[key])
        except TypeError as exc:
            raise ConfigError(f"'{name}' = {value!r}: expected {exc}", origin) from None
        meta = fields[key].metadata
        choices, bounds = meta.get("choices"), meta.get("bounds")
        items = typed[key] if isinstance(typed[key], tuple) else (typed[key],)
        if choices and any(item not in choices for item in items):
            raise ConfigError(
                f"'{name}' = {value!r}: choose one of {', '.join(map(str, choices))}", origin
            )
        if _is_number(typed[key]):
            if bounds and not bounds[0] <= typed[key] <= bounds[1]:
                raise ConfigError(
                    f"'{name}' = {value!r}: must be between {bounds[0]} and {bounds[1]}", origin
                )
            if positive and not (bounds or choices) and not typed[key] > 0:
                raise ConfigError(f"'{name}' = {value!r}: must be above 0", origin)
    return typed


def read_settings(
    cls: type[T],
    table: Mapping[str, Any] | None,
    where: str,
    origin: str,
    *,
    positive: bool = False,
) -> T:
    """An instance of the frozen dataclass ``cls`` from ``table`` (missing keys keep their
    defaults); every refusal is a :class:`ConfigError` naming the key and ``origin``."""
    values = check_values(cls, dict(table or {}), where, origin, positive=positive)
    try:
        return cls(**values)
    except ValueError as exc:
        raise ConfigError(f"[{where}] {exc}" if where else str(exc), origin) from None


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    raise TypeError(f"setting {f.name!r} has no default")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _convert(value: Any, kind: Any) -> Any:
    """``value`` as ``kind``, or TypeError naming what was expected. Strict: no string is read
    as a number or a boolean."""
    origin = typing.get_origin(kind)
    args = typing.get_args(kind)
    if kind is Any:
        return value
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        options = [a for a in args if a is not type(None)]
        for option in options:
            try:
                return _convert(value, option)
            except TypeError:
                continue
        raise TypeError(" or ".join(_name(a) for a in options))
    if kind is bool:
        if not isinstance(value, bool):
            raise TypeError("true or false")
        return value
    if kind is int:
        if isinstance(value, float) and math.isfinite(value) and value.is_integer():
            return int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            raise TypeError("an integer")
        return value
    if kind is float:
        if not _is_number(value):
            raise TypeError("a number")
        return float(value)
    if kind is str:
        if not isinstance(value, str):
            raise TypeError("a string")
        return value
    if origin is tuple:
        if not isinstance(value, (list, tuple)):
            raise TypeError(f"a list of {_name(args[0]) if args else 'values'}")
        item = args[0] if args else Any
        return tuple(_convert(v, item) for v in value)
    if origin in (dict, Mapping) or kind in (dict, Mapping):
        if not isinstance(value, Mapping):
            raise TypeError("a table")
        item = args[1] if len(args) == 2 else Any
        return {str(k): _convert(v, item) for k, v in value.items()}
    if isinstance(kind, type) and not isinstance(value, kind):
        raise TypeError(_name(kind))
    return value


def _name(kind: Any) -> str:
    names = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
    if kind in names:
        return names[kind]
    if typing.get_origin(kind) is tuple:
        return "a list"
    if typing.get_origin(kind) is dict:
        return "a table"
    return getattr(kind, "__name__", str(kind))
