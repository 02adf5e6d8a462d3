"""Job callbacks signed with Standard Webhooks (HMAC-SHA256 over ``id.timestamp.body``).

The ``webhook-id`` stays the same across retries (the receiver's idempotency key); only 2xx
counts as delivered; 410 means the endpoint is gone and stops the retries; waits grow with full
jitter. Callbacks to private addresses are refused unless the settings allow them (SSRF).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import random
import socket
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import httpx
from standardwebhooks.webhooks import Webhook

log = logging.getLogger(__name__)


class WebhookRefused(ValueError):
    """The callback URL cannot be used; the message says why."""


def check_webhook_url(url: str, allow_private: bool) -> None:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:  # a port out of range or not a number, a bad IPv6 literal
        raise WebhookRefused(f"webhook_url is not a valid URL ({exc})") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise WebhookRefused("webhook_url must be an http(s) URL with a host")
    if allow_private:
        return
    try:
        infos = socket.getaddrinfo(parts.hostname, port or 443, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookRefused(f"webhook host {parts.hostname!r} does not resolve") from exc
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise WebhookRefused(
                f"webhook host {parts.hostname!r} is a private address "
                "(set serve.allow_private_webhooks to allow it)"
            )


def signed_request(secret: str, msg_id: str, payload: dict[str, Any]) -> tuple[bytes, dict]:
    """The body and the three Standard Webhooks headers for one delivery attempt."""
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False)
    now = datetime.now(tz=UTC)
    signature = Webhook(secret).sign(msg_id, now, body)
    headers = {
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }
    return body.encode(), headers


async def deliver(
    url: str,
    secret: str,
    msg_id: str,
    payload: dict[str, Any],
    attempts: int,
    timeout_s: float,
    backoff_s: float,
) -> dict[str, Any]:
    """POST ``payload`` until a 2xx, a 410 or the last attempt; return what happened."""
    last = ""
    async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as client:
        for attempt in range(1, max(1, attempts) + 1):
            body, headers = signed_request(secret, msg_id, payload)  # fresh timestamp per try
            try:
                response = await client.post(url, content=body, headers=headers)
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}: {exc}"
            else:
                if 200 <= response.status_code < 300:
                    return {"status": "delivered", "attempts": attempt}
                last = f"HTTP {response.status_code}"
                if response.status_code == 410:
                    break
            if attempt < attempts:
                await asyncio.sleep(random.uniform(0, backoff_s * 4 ** (attempt - 1)))
    log.warning("webhook %s to %s failed: %s", msg_id, url, last)
    return {"status": "failed", "attempts": attempt, "error": last}
