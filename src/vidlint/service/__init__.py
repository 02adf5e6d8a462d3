"""The QA service (``vidlint serve``): FastAPI + uvicorn, installed with ``vidlint[serve]``."""

from vidlint.service.settings import SECRET_ENV, TOKEN_ENV, ServeSettings, serve_settings

__all__ = ["SECRET_ENV", "TOKEN_ENV", "ServeSettings", "create_app", "serve_settings"]


def create_app(*args, **kwargs):  # imported on use: FastAPI is an optional dependency
    from vidlint.service.app import create_app as make

    return make(*args, **kwargs)
