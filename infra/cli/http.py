"""What every command that talks HTTP shares: the origin of a URL (which decides where a credential may go),
how long a service asks to wait before a retry, and what a credential is."""

from __future__ import annotations

import contextlib
import datetime as dt
import email.utils
import ipaddress
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx


class TokenProvider(Protocol):
    """What a command needs of a credential: azure-identity's ``get_token``."""

    def get_token(self, *scopes: str) -> Any: ...


Origin = tuple[str, str, int | None]
"""Scheme, host (lower case; an IP address in its short form) and port of a URL."""
DEFAULT_PORTS = {"https": 443, "http": 80}


def origin(url: str) -> Origin | None:
    """The origin of an absolute URL, ``None`` when ``url`` is not one."""
    import httpx  # when a command talks HTTP: building the parser does not

    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL:
        return None
    if not parsed.scheme or not parsed.host:
        return None
    host = parsed.host
    with contextlib.suppress(ValueError):
        host = str(ipaddress.ip_address(host))
    return parsed.scheme, host, parsed.port if parsed.port is not None else DEFAULT_PORTS.get(parsed.scheme)


def retry_after(
    headers: httpx.Headers, now: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
) -> float | None:
    """Seconds the service asks to wait: ``retry-after-ms`` (Azure), else ``Retry-After`` in seconds or as
    an HTTP date; ``None`` when absent or unreadable."""
    millis = headers.get("retry-after-ms") or headers.get("x-ms-retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now()).total_seconds())
