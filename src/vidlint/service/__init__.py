"""The QA service (``vidlint serve``): FastAPI + uvicorn, installed with ``vidlint[serve]``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from vidlint.service.settings import SECRET_ENV, TOKEN_ENV, ServeSettings, serve_settings

if TYPE_CHECKING:
    from fastapi import FastAPI

    from vidlint.config import Config

__all__ = ["SECRET_ENV", "TOKEN_ENV", "ServeSettings", "create_app", "serve_settings"]


def create_app(config: Config, settings: ServeSettings | None = None) -> FastAPI:
    """Imported on use: FastAPI is an optional dependency."""
    from vidlint.service.app import create_app as make

    return make(config, settings)
