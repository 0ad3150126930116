"""Azure's Models API as ``maas catalog sync`` sweeps it: ``Models_List`` of one location through
azure-mgmt-cognitiveservices on an azure-core pipeline bounded in every way (retries and waits, timeouts, pages,
models, body size), the bearer token sent to the ARM endpoint's host only, and every failure one line.

:func:`infra.cli.commands.catalog_sync.sweep_location` imports this module when a sweep starts, so that parsing
the command line loads neither azure-core, azure-mgmt-cognitiveservices nor requests.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, Protocol
from urllib.parse import urlsplit

import httpx
import requests
import urllib3
from azure.core.credentials import TokenCredential
from azure.core.exceptions import (
    AzureError,
    DeserializationError,
    HttpResponseError,
    ServiceRequestError,
    ServiceRequestTimeoutError,
    ServiceResponseError,
    ServiceResponseTimeoutError,
)
from azure.core.pipeline import PipelineRequest, PipelineResponse
from azure.core.pipeline.policies import (
    HeadersPolicy,
    RequestIdPolicy,
    RetryPolicy,
    SansIOHTTPPolicy,
    UserAgentPolicy,
)
from azure.core.pipeline.transport import HttpTransport, RequestsTransport
from azure.core.rest import HttpRequest, HttpResponse
from azure.mgmt.cognitiveservices import CognitiveServicesManagementClient
from azure.mgmt.cognitiveservices.models import Model as ApiModel
from azure.mgmt.core.policies import ARMChallengeAuthenticationPolicy

from infra.cli.commands.catalog_sync import (
    DETAIL_LIMIT,
    NO_DATE_FROM,
    RETRIED_STATUSES,
    USER_AGENT,
    VERSION,
    Bounds,
    Offer,
    SweepFailedError,
    Swept,
    _clean,
    _shown,
)
from infra.cli.http import origin, retry_after
from infra.cli.output import plural
from infra.engine.documents import first_line


def _shown_origin(url: str) -> str:
    parts = urlsplit(url)
    return _clean(f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}", 120)


class _SameOrigin(SansIOHTTPPolicy[HttpRequest, HttpResponse]):
    """Last before the transport: a request (a next-page link, a retry) to anywhere but the ARM endpoint's
    scheme and host fails the location before it is sent, so the bearer token never leaves that host."""

    def __init__(self, endpoint: str) -> None:
        self.endpoint = endpoint

    def on_request(self, request: PipelineRequest[HttpRequest]) -> None:
        url = request.http_request.url
        # origin() is the one reading of a URL's origin that decides where a credential may go.
        if origin(url) is None or origin(url) != origin(self.endpoint):
            raise SweepFailedError(
                f"the next page link points to {_shown_origin(url)}, not the ARM endpoint "
                f"{_shown_origin(self.endpoint)}: not followed (the token goes to the ARM endpoint only)"
            )


class _Pages(SansIOHTTPPolicy[HttpRequest, HttpResponse]):
    """Decodes each answer (for the SDK's deserializer) and holds a page to the documented shape and the
    sweep's bounds: ``value`` a list of objects (each ``model`` an object), ``nextLink`` a string, no more pages
    or models than allowed (checked before the next page is asked for). The SDK's deserializer checks the rest."""

    def __init__(self, bounds: Bounds) -> None:
        self.bounds = bounds
        self.pages = 0
        self.models = 0

    def on_response(
        self, request: PipelineRequest[HttpRequest], response: PipelineResponse[HttpRequest, HttpResponse]
    ) -> None:
        answer = response.http_response
        try:
            document: Any = json.loads(answer.content) if answer.content else None
            decoded = True
        except ValueError:
            document, decoded = None, False
        response.context["deserialized_data"] = document
        if answer.status_code != 200:
            return
        if not decoded or document is None:
            raise SweepFailedError("malformed answer: the body is not JSON")
        value = document.get("value") if isinstance(document, dict) else None
        if not isinstance(value, list) or not all(isinstance(entry, dict) for entry in value):
            raise SweepFailedError("malformed answer: `value` is not a list of objects")
        if not all(isinstance(entry.get("model", {}), dict) for entry in value):
            raise SweepFailedError("malformed answer: an entry's `model` is not an object")
        next_link = document.get("nextLink")
        if next_link is not None and not isinstance(next_link, str):
            raise SweepFailedError("malformed answer: `nextLink` is not a string")
        self.pages += 1
        self.models += len(value)
        if self.models > self.bounds.max_models:
            raise SweepFailedError(f"more than {self.bounds.max_models} models: not read further")
        if next_link and self.pages >= self.bounds.max_pages:
            raise SweepFailedError(f"more than {self.bounds.max_pages} pages: not read further")


class BoundedRetryPolicy(RetryPolicy[HttpRequest, HttpResponse]):
    """azure-core's retry policy, bounded: only 429 and transient 5xx answers are retried, ``retries`` times,
    never a connection error; the wait is the one the service asks (``retry-after-ms``, ``x-ms-retry-after-ms``,
    ``Retry-After`` in seconds or as an HTTP date), else 1, 2, 4 s. azure-core honours any ``Retry-After``;
    here a wait over ``max_wait`` fails the location at once. ``sleep`` does the waiting."""

    def __init__(self, bounds: Bounds, sleep: Callable[[float], None]) -> None:
        super().__init__(
            retry_total=bounds.retries,
            retry_status=bounds.retries,
            retry_connect=0,
            retry_read=0,
            retry_backoff_factor=bounds.backoff,
            retry_backoff_max=int(bounds.max_wait),
        )
        self.bounds = bounds
        self._sleep = sleep
        self.attempts = 0
        """Requests the last answer took (the first one included)."""

    def is_retry(self, settings: dict[str, Any], response: PipelineResponse[Any, Any]) -> bool:
        return bool(settings["total"]) and response.http_response.status_code in RETRIED_STATUSES

    def sleep(
        self,
        settings: dict[str, Any],
        transport: HttpTransport[HttpRequest, HttpResponse],
        response: PipelineResponse[HttpRequest, HttpResponse] | None = None,
    ) -> None:
        retry = max(1, len(settings["history"]))
        asked = None if response is None else _asked_wait(response.http_response)
        wait = asked if asked is not None else self.bounds.backoff * 2 ** (retry - 1)
        if wait > self.bounds.max_wait:
            problem = _http_problem(response.http_response) if response is not None else "the request failed"
            raise SweepFailedError(
                f"{problem}: the service asked to retry after {wait:g} s, more than the {self.bounds.max_wait:g} s "
                "this waits"
            )
        self._sleep(wait)

    def send(self, request: PipelineRequest[HttpRequest]) -> PipelineResponse[HttpRequest, HttpResponse]:
        answer = super().send(request)
        self.attempts = 1 + len(answer.context.get("history") or ())
        return answer


def _asked_wait(response: HttpResponse) -> float | None:
    """Seconds the answer asks to wait before a retry (the same reading as maas smoke's)."""
    return retry_after(httpx.Headers(list(response.headers.items())))


def _bounded_body(limit: int) -> Callable[..., requests.Response]:
    """A ``requests`` response hook that reads a body of at most ``limit`` bytes: a larger ``Content-Length``
    fails before anything is read, a chunked body fails once ``limit`` bytes have come."""

    def hook(response: requests.Response, *args: Any, **kwargs: Any) -> requests.Response:
        declared = response.headers.get("Content-Length", "")
        if declared.isdigit() and int(declared) > limit:
            response.close()
            raise SweepFailedError(f"the answer is {int(declared):,} bytes, more than the {limit:,} bytes this reads")
        if response._content_consumed:  # already read: nothing to bound
            return response
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > limit:
                    response.close()
                    raise SweepFailedError(f"the answer is more than the {limit:,} bytes this reads")
                chunks.append(chunk)
        except requests.ConnectionError as error:  # requests' name for a read timeout in a body
            response.close()
            if error.args and isinstance(error.args[0], urllib3.exceptions.ReadTimeoutError):
                raise requests.ReadTimeout(error) from error
            raise
        # requests' own cache of a read body: the pipeline then reads these bytes instead of the socket
        response._content = b"".join(chunks)
        response._content_consumed = True
        return response

    return hook


def _root_cause(error: BaseException) -> BaseException:
    """The innermost error under azure-core's, requests' and urllib3's wrappers (``[Errno 111] Connection
    refused`` rather than ``HTTPSConnectionPool(...): Max retries exceeded with url: ...``)."""
    seen: set[int] = set()
    while id(error) not in seen:
        seen.add(id(error))
        inner = getattr(error, "inner_exception", None) or getattr(error, "reason", None) or error.__cause__
        inner = inner or (error.args[0] if error.args else None)
        if not isinstance(inner, BaseException):
            break
        error = inner
    return error


class _Answer(Protocol):
    """What a failure reason needs of an HTTP answer (azure-core's responses, and the one an error carries)."""

    @property
    def status_code(self) -> int | None: ...

    @property
    def reason(self) -> str | None: ...

    def text(self) -> str: ...


def _http_problem(response: _Answer) -> str:
    """``403 AuthorizationFailed: <ARM's message>``, or the status and reason when the body is no ARM error."""
    try:
        document = json.loads(response.text())
    except ValueError:
        document = None
    error = document.get("error") if isinstance(document, dict) else None
    fields = error if isinstance(error, dict) else {}
    code, message = (value if isinstance(value := fields.get(name), str) else "" for name in ("code", "message"))
    head = f"{response.status_code} {code or response.reason or ''}".strip()
    return _clean(f"{head}: {message}" if message.strip() else head)


NETWORK_FAILURES: tuple[tuple[type[AzureError], str], ...] = (
    (ServiceRequestTimeoutError, "no connection to {host} within {bounds.connect_timeout:g} s (timeout)"),
    (ServiceResponseTimeoutError, "no answer from {host} within {bounds.read_timeout:g} s (timeout)"),
    (ServiceRequestError, "cannot reach {host}: {cause}"),
    (ServiceResponseError, "the connection to {host} broke: {cause}"),
)
"""How a request that got no answer fails its location (the first matching type wins)."""


def _failure(error: Exception, endpoint: str, bounds: Bounds, retry: BoundedRetryPolicy) -> str:
    """The one-line reason a location failed."""
    if isinstance(error, SweepFailedError):
        return _clean(str(error), 2 * DETAIL_LIMIT)
    if isinstance(error, HttpResponseError) and error.response is not None:
        problem = _http_problem(error.response)
        if error.response.status_code in RETRIED_STATUSES and retry.attempts > 1:
            problem += f" (still failing after {retry.attempts} attempts)"
        return problem
    cause = _clean(first_line(_root_cause(error)))
    if isinstance(error, DeserializationError):
        return f"malformed answer: not the documented shape: {cause}"
    template = next((text for kind, text in NETWORK_FAILURES if isinstance(error, kind)), "{kind}: {cause}")
    return template.format(host=_shown_origin(endpoint), bounds=bounds, cause=cause, kind=type(error).__name__)


def _date(value: str | None) -> dt.date | None:
    """The date of an ISO-8601 timestamp such as ``2025-04-30T00:00:00Z``; None when absent or unreadable."""
    try:
        return dt.date.fromisoformat(value[:10]) if value else None
    except ValueError:
        return None


def _offer(item: ApiModel, location: str) -> tuple[Offer | None, str]:
    """The offer of one API entry, or None and why it was skipped ("" when it simply lacks a field)."""
    model = item.model
    if model is None or not model.format or not model.name or not model.version:
        return None, ""
    if not VERSION.match(model.version):
        return (
            None,
            f"{location}: skipped {_named(model.format, model.name)}: version {_shown(model.version)} is not a version",
        )
    deprecation = model.deprecation
    inference = deprecation.inference if deprecation is not None else None
    retires = _date(inference)
    note = ""
    if inference and retires is None:
        note = (
            f"{location}: {_named(model.format, model.name)} {model.version}: deprecation.inference "
            f"{_shown(inference)} is not a date; ignored"
        )
    status = model.lifecycle_status
    tentative = deprecation is not None and str(deprecation.deprecation_status or "").lower() == "tentative"
    offer = Offer(
        kind=str(item.kind or ""),
        format=model.format,
        name=model.name,
        version=model.version,
        default=bool(model.is_default_version),
        status=str(getattr(status, "value", status)) if status is not None else None,
        retires=retires if retires is not None and retires < NO_DATE_FROM else None,
        tentative=tentative,
        skus=tuple(sku.name for sku in model.skus or () if sku.name),
    )
    return offer, note


def _named(format_: str, name: str) -> str:
    return f"format {_shown(format_)} name {_shown(name)}"


def sweep_location(
    location: str,
    *,
    subscription: str,
    credential: TokenCredential,
    endpoint: str,
    bounds: Bounds,
    sleep: Callable[[float], None],
) -> Swept:
    """List one location's models; never raises for what a service or network can do wrong."""
    pages = _Pages(bounds)
    retry = BoundedRetryPolicy(bounds, sleep)
    session = requests.Session()
    session.hooks["response"].append(_bounded_body(bounds.max_body))
    offers: list[Offer] = []
    notes: list[str] = []
    skipped = 0
    try:
        with (
            session,
            RequestsTransport(
                session=session,
                session_owner=False,
                connection_timeout=bounds.connect_timeout,
                read_timeout=bounds.read_timeout,
            ) as transport,
        ):
            client = CognitiveServicesManagementClient(
                credential,
                subscription,
                base_url=endpoint,
                transport=transport,
                policies=[
                    RequestIdPolicy(),
                    HeadersPolicy(),
                    UserAgentPolicy(user_agent=USER_AGENT),
                    pages,
                    retry,
                    ARMChallengeAuthenticationPolicy(credential, f"{endpoint}/.default"),
                    _SameOrigin(endpoint),
                ],
            )
            for item in client.models.list(location):
                offer, note = _offer(item, location)
                if offer is not None:
                    offers.append(offer)
                elif not note:
                    skipped += 1
                if note:
                    notes.append(note)
    except (SweepFailedError, AzureError, DeserializationError) as error:
        failed = _failure(error, endpoint, bounds, retry)
        return Swept(location, False, models=pages.models, pages=pages.pages, error=failed)
    if skipped:
        entries = plural(skipped, "model entry", "model entries")
        notes.insert(0, f"{location}: skipped {entries} without format, name or version")
    return Swept(location, True, tuple(offers), pages.models, pages.pages, None, tuple(notes))
