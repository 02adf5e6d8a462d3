"""Analyzers: one module each, registered here by name (plugins: entry point group
``vidlint.analyzers``)."""

from vidlint.analyzers.base import Analyzer, FrameSeries, Needs, NoParams, param
from vidlint.registry import Registry

ANALYZERS = Registry("analyzer", {
    "temporal": "vidlint.analyzers.temporal:TemporalAnalyzer",
})

__all__ = ["ANALYZERS", "Analyzer", "FrameSeries", "Needs", "NoParams", "param"]
