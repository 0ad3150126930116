"""The views of a smoke run: a terminal table (rich) and a stable JSON document."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich import box
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from infra.cli.options import MAX_SECONDS
from infra.cli.output import one_line, plural

if TYPE_CHECKING:
    from infra.cli.commands.smoke import Result as SmokeResult

SCHEMA_VERSION = 1

JSON_FIELDS: dict[str, str] = {
    "schemaVersion": "1; changes when a field changes meaning or goes away.",
    "stack": "The stack whose outputs were checked, as `--stack` gave it or `pulumi stack select` chose it (`dev`, "
    "`org/dev` or `org/project/dev`); null for saved outputs (`--outputs`) without `--stack`.",
    "passed": "Checks that passed.",
    "failed": "Checks that failed.",
    "checks": "One entry per serverless endpoint and route, then one per Foundry deployment, in the order of the "
    "outputs.",
    "checks[].endpoint": "The serverless endpoint's name, or `<account>/<deployment>` for a Foundry deployment.",
    "checks[].route": "`inference` (`{uri}/chat/completions`) or `native` (`{uri}/v1/chat/completions`) for a "
    "serverless endpoint; `openai` for a Foundry deployment (`{baseUrl}/chat/completions`, the `openai/v1` route).",
    "checks[].stream": "True when the answer was streamed.",
    "checks[].auth": "`key` or `entra`.",
    "checks[].ok": "Whether the check passed.",
    "checks[].status": "The HTTP status of the last answer, or null when there was none.",
    "checks[].attempts": "Requests sent (retries of 429 and 5xx included).",
    "checks[].latencyMs": "Milliseconds the last attempt took, or null.",
    "checks[].model": "The model the answer names, or null.",
    "checks[].usage": "Token counts of the answer, or null.",
    "checks[].usage.promptTokens": "Tokens of the request.",
    "checks[].usage.completionTokens": "Tokens of the answer.",
    "checks[].usage.totalTokens": "Their sum.",
    "checks[].reply": "The answer's text, or null.",
    "checks[].problem": "Why the check failed, on one line, or null.",
}
"""Every field of ``maas smoke --format json``; docs/cli.md shows them and a test holds them to the document."""

ROUTE_LABELS = {"openai": "openai/v1"}
"""How the text report shows a route whose JSON name is shorter than its path."""
REPLY_LIMIT = 24
LATENCY_WIDTH = len(f"{MAX_SECONDS * 1000:.0f} ms")
"""The latency column is as wide as the longest latency a check can take, so the table's layout never depends
on how long the checks took."""


def smoke_json(results: Sequence[SmokeResult], stack: str | None) -> str:
    return json.dumps(
        {
            "schemaVersion": SCHEMA_VERSION,
            "stack": stack,
            "passed": sum(r.ok for r in results),
            "failed": sum(not r.ok for r in results),
            "checks": [
                {
                    "endpoint": r.endpoint,
                    "route": r.route,
                    "stream": r.stream,
                    "auth": r.auth,
                    "ok": r.ok,
                    "status": r.status,
                    "attempts": r.attempts,
                    "latencyMs": None if r.latency is None else round(r.latency * 1000),
                    "model": r.model or None,
                    "usage": None
                    if r.usage is None
                    else {
                        "promptTokens": r.usage.prompt_tokens,
                        "completionTokens": r.usage.completion_tokens,
                        "totalTokens": r.usage.total_tokens,
                    },
                    "reply": r.reply or None,
                    "problem": r.problem or None,
                }
                for r in results
            ],
        },
        indent=2,
    )


def route_label(route: str) -> str:
    return ROUTE_LABELS.get(route, route)


def summary_line(results: Sequence[SmokeResult], subject: str) -> str:
    """``2 of 3 checks passed on stack dev``: ``subject`` names the stack, or the saved outputs when no stack is
    named."""
    passed = sum(r.ok for r in results)
    return f"{passed} of {plural(len(results), 'check')} passed on {subject}"


def print_smoke(results: Sequence[SmokeResult], console: Console, subject: str) -> None:
    table = Table(box=box.SIMPLE_HEAVY, pad_edge=False)
    for column in ("Endpoint", "Route", "Auth", "Status", "Latency", "Tokens", "Reply"):
        table.add_column(
            column,
            overflow="fold",
            justify="right" if column in ("Latency", "Tokens") else "left",
            min_width=LATENCY_WIDTH if column == "Latency" else None,
        )
    for r in results:
        status = "no answer" if r.status is None else str(r.status)
        tries = f" ({r.attempts} tries)" if r.attempts > 1 else ""
        table.add_row(
            escape(r.endpoint),
            route_label(r.route) + (" stream" if r.stream else ""),
            "key" if r.auth == "key" else "Entra ID",
            f"[green]{status} ok[/]{tries}" if r.ok else f"[red]{status} failed[/]{tries}",
            "-" if r.latency is None else f"{r.latency * 1000:.0f} ms",
            "-"
            if r.usage is None
            else f"{r.usage.prompt_tokens} + {r.usage.completion_tokens} = {r.usage.total_tokens}",
            escape(one_line(r.reply, REPLY_LIMIT)) if r.ok else "-",
        )
    console.print(table)
    for r in results:
        if not r.ok:
            console.print(f"✗ {r.endpoint} ({route_label(r.route)}): {r.problem}", markup=False, soft_wrap=True)
    console.print(summary_line(results, subject), markup=False, highlight=False, soft_wrap=True)
