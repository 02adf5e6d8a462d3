"""Registries are dicts of ``name -> "module:attribute"`` (or just ``"module"``), imported on first use, extended by
entry points. A plugin that fails to load is an error that names it, never silently skipped."""

from __future__ import annotations

import importlib
from importlib.metadata import entry_points
from typing import Any

from vidlint.errors import ConfigError


class Registry:
    def __init__(self, kind: str, builtin: dict[str, str]) -> None:
        self.kind = kind
        self._targets = dict(builtin)
        self._loaded: dict[str, Any] = {}
        self._plugins_read = False

    def names(self) -> list[str]:
        self._read_plugins()
        return sorted(self._targets)

    def get(self, name: str) -> Any:
        self._read_plugins()
        if name in self._loaded:
            return self._loaded[name]
        if name not in self._targets:
            known = ", ".join(sorted(self._targets))
            raise ConfigError(f"unknown {self.kind} {name!r} (known: {known})")
        module_name, _, attribute = self._targets[name].partition(":")
        try:
            module = importlib.import_module(module_name)
            value = getattr(module, attribute) if attribute else module
        except Exception as exc:  # a broken plugin must be reported, not skipped
            raise ConfigError(
                f"{self.kind} {name!r} failed to load from {self._targets[name]}: {exc}"
            ) from exc
        self._loaded[name] = value
        return value

    def _read_plugins(self) -> None:
        if self._plugins_read:
            return
        self._plugins_read = True
        for point in entry_points(group=f"vidlint.{self.kind}s"):
            self._targets.setdefault(point.name, point.value)
