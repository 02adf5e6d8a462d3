"""Analyzers, one module (or package) each: the module ``analyzers/NAME.py`` holds the analyzer
``NAME`` as its ``ANALYZER``, found there by the registry with no list to edit. Plugins use the
entry point group ``vidlint.analyzers``."""

from vidlint.analyzers.base import Analyzer, FrameSeries, Measured, Needs
from vidlint.registry import Registry, package_modules

ANALYZERS = Registry("analyzer", package_modules("vidlint.analyzers", "ANALYZER", skip=("base",)))

__all__ = ["ANALYZERS", "Analyzer", "FrameSeries", "Measured", "Needs"]
