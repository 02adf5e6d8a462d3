"""Analyzers: one module each, registered here by name (plugins: entry point group
``vidlint.analyzers``)."""

from vidlint.analyzers.base import Analyzer, FrameSeries, Needs, NoParams, param
from vidlint.registry import Registry

ANALYZERS = Registry(
    "analyzer",
    {
        "temporal": "vidlint.analyzers.temporal:TemporalAnalyzer",
        "flow": "vidlint.analyzers.flow:FlowAnalyzer",
        "flicker": "vidlint.analyzers.flicker:FlickerAnalyzer",
        "quality": "vidlint.analyzers.quality:QualityAnalyzer",
        "hands": "vidlint.analyzers.hands:HandsAnalyzer",
        "faces": "vidlint.analyzers.faces:FacesAnalyzer",
        "reference": "vidlint.analyzers.reference:ReferenceAnalyzer",
        "source": "vidlint.source:SourceImageAnalyzer",
    },
)

__all__ = ["ANALYZERS", "Analyzer", "FrameSeries", "Needs", "NoParams", "param"]
