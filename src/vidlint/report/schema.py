"""The report's JSON Schema, validation, and upgrades of older documents (OpenTimelineIO's way:
every saved document names its schema, old versions are upgraded on load)."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from vidlint.errors import VidlintError

SCHEMA_ID = "vidlint.report/1"

UPGRADES: dict[str, Any] = {}
"""``old schema id -> function(document) -> document one version newer``."""


@cache
def report_schema() -> dict[str, Any]:
    return json.loads(
        resources.files("vidlint.report")
        .joinpath("report-1.schema.json")
        .read_text(encoding="utf-8")
    )


def validate(document: dict[str, Any]) -> None:
    """Raise ``jsonschema.ValidationError`` if ``document`` is not a valid report."""
    import jsonschema

    jsonschema.validate(document, report_schema())


def upgrade(document: dict[str, Any]) -> dict[str, Any]:
    schema = document.get("schema")
    while schema in UPGRADES:
        document = UPGRADES[schema](document)
        schema = document.get("schema")
    if schema != SCHEMA_ID:
        raise VidlintError(f"not a vidlint report (schema {schema!r}, expected {SCHEMA_ID!r})")
    return document
