"""One registry for analyzers, rule families, writers, backends and engines.

A registry maps a name to a ``"module:attribute"`` target (or just ``"module"``), imported on
first use, so a check that needs none of the face or hand models never imports them. Built-in
entries come from a manifest (OpenTimelineIO's style) or, for analyzers and rule families, from
the modules of their package: adding ``analyzers/blur.py`` with ``ANALYZER = BlurAnalyzer`` is
all it takes to register the analyzer ``blur``. Plugins add entries through the entry point
group ``vidlint.<kind>s``. A plugin that fails to load is an error that names it, never silently
skipped.
"""

from __future__ import annotations

import importlib
import importlib.util
import pkgutil
from collections.abc import Mapping
from importlib.metadata import entry_points
from typing import Any

from vidlint.errors import ConfigError


def package_modules(
    package: str, attribute: str = "", skip: tuple[str, ...] = ()
) -> dict[str, str]:
    """``{module name: "package.module:attribute"}`` for the modules and subpackages of
    ``package`` (found on disk, not imported), except private ones and ``skip``."""
    spec = importlib.util.find_spec(package)
    paths = list(spec.submodule_search_locations or []) if spec else []
    target = f":{attribute}" if attribute else ""
    return {
        info.name: f"{package}.{info.name}{target}"
        for info in sorted(pkgutil.iter_modules(paths), key=lambda i: i.name)
        if not info.name.startswith("_") and info.name not in skip
    }


class Registry:
    """Names to lazily imported objects of one ``kind`` (``"analyzer"``, ``"writer"``...)."""

    def __init__(self, kind: str, builtin: Mapping[str, str]) -> None:
        self.kind = kind
        self._targets = dict(builtin)
        self._loaded: dict[str, Any] = {}
        self._plugins_read = False

    def names(self) -> list[str]:
        self._read_plugins()
        return sorted(self._targets)

    def __contains__(self, name: object) -> bool:
        return name in self.names()

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

    def load_all(self) -> dict[str, Any]:
        """Every entry, imported."""
        return {name: self.get(name) for name in self.names()}

    def _read_plugins(self) -> None:
        if self._plugins_read:
            return
        self._plugins_read = True
        for point in entry_points(group=f"vidlint.{self.kind}s"):
            self._targets.setdefault(point.name, point.value)
