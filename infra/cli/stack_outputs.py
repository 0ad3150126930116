"""A deployed stack's outputs, as ``pulumi stack output --json --show-secrets`` prints them.

Read from the Pulumi CLI, or from a saved copy of that document (a file, or ``-`` for stdin). Only what
``maas smoke`` needs is validated (the endpoints and their keys); other outputs are ignored, so outputs of
a newer or older program still read. Keys are held as :class:`pydantic.SecretStr` and the document is
never echoed: an error names the key path and says what was expected, nothing more.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError

from infra.engine.documents import MAX_BYTES
from infra.errors import UserError

HIDDEN_SECRET = "[secret]"
"""What ``pulumi stack output --json`` prints for a secret without ``--show-secrets``."""
CLI_TIMEOUT = 120.0
"""Seconds ``pulumi stack output`` may take (it reads the backend, perhaps a Key Vault)."""


class OutputsError(UserError):
    """The outputs cannot be read or are not what the program exports; the message is one line."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True, strict=True)


class RateLimits(_Model):
    tokens_per_minute: int = Field(alias="tokensPerMinute")
    requests_per_minute: int = Field(alias="requestsPerMinute")


class EndpointOutput(_Model):
    """One entry of the ``endpoints`` output (see ``infra/program.py``)."""

    workspace: str
    model_id: str = Field(alias="modelId")
    api: Literal["chat", "ocr"] = "chat"
    """Absent in outputs of azure-maas before the catalog knew OCR models: chat."""
    inference_uri: str = Field(alias="inferenceUri")
    chat_completions_url: str | None = Field(default=None, alias="chatCompletionsUrl")
    native_chat_completions_url: str | None = Field(default=None, alias="nativeChatCompletionsUrl")
    auth_mode: Literal["Key", "AAD", "KeyAndAAD"] = Field(alias="authMode")
    content_safety: bool = Field(alias="contentSafety")
    rate_limits: RateLimits = Field(alias="rateLimits")


class EndpointKeys(_Model):
    primary_key: SecretStr = Field(alias="primaryKey")
    secondary_key: SecretStr = Field(alias="secondaryKey")


class StackOutputs(_Model):
    endpoints: dict[str, EndpointOutput]
    endpoint_keys: dict[str, EndpointKeys] | Literal["[secret]"] = Field(default_factory=dict, alias="endpointKeys")

    @property
    def keys_hidden(self) -> bool:
        return self.endpoint_keys == HIDDEN_SECRET

    def key_of(self, endpoint: str) -> SecretStr | None:
        if isinstance(self.endpoint_keys, str):
            return None
        keys = self.endpoint_keys.get(endpoint)
        return keys.primary_key if keys else None


def parse(text: str, origin: str) -> StackOutputs:
    """Validate a ``pulumi stack output --json`` document; ``origin`` names where it came from."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:  # the text may hold secrets: say where, never what
        raise OutputsError(f"{origin} is not JSON (line {error.lineno}, column {error.colno})") from None
    except RecursionError:
        raise OutputsError(f"{origin} is nested too deeply to be stack outputs") from None
    if not isinstance(document, dict):
        raise OutputsError(f"{origin} is not a JSON object of stack outputs")
    if "endpoints" not in document:
        raise OutputsError(f"{origin} has no `endpoints` output: is the stack deployed (`pulumi up`)?")
    try:
        return StackOutputs.model_validate(document)
    except ValidationError as error:
        raise OutputsError(f"{origin}: {_problems(error)}") from None


def _problems(error: ValidationError) -> str:
    problems = []
    for item in error.errors(include_url=False, include_input=False):
        where = ".".join(str(part) for part in item["loc"] if not _is_union_branch(part))
        problems.append(f"{where}: {item['msg']}")
    return "; ".join(dict.fromkeys(problems))


def _is_union_branch(part: str | int) -> bool:
    """Pydantic names the union member it tried (``dict[str,EndpointKeys]``, ``literal['[secret]']``)."""
    return isinstance(part, str) and ("[" in part or part.startswith("literal"))


def _text(data: bytes, origin: str) -> str:
    """The document's text: at most :data:`documents.MAX_BYTES`, UTF-8 (the offset of a bad byte is given, never
    the byte: the document holds secrets)."""
    if len(data) > MAX_BYTES:
        raise OutputsError(f"{origin} is larger than {MAX_BYTES // (1024 * 1024)} MiB: not stack outputs")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise OutputsError(f"{origin} is not UTF-8 text (a bad byte at offset {error.start})") from None


def read(stack: str, cwd: Path, source: Path | None = None) -> StackOutputs:
    """The outputs of ``stack``: from ``source`` (a file, ``-`` for stdin) or from the Pulumi CLI in ``cwd``."""
    if source is not None:
        if str(source) == "-":
            return parse(_text(sys.stdin.buffer.read(MAX_BYTES + 1), "the outputs on stdin"), "the outputs on stdin")
        try:
            with source.open("rb") as handle:
                data = handle.read(MAX_BYTES + 1)
        except OSError as error:
            raise OutputsError(f"cannot read --outputs {source}: {error.strerror or error}") from None
        return parse(_text(data, str(source)), str(source))
    origin = f"the outputs of stack {stack!r}"
    return parse(_text(_from_cli(stack, cwd), origin), origin)


def _from_cli(stack: str, cwd: Path) -> bytes:
    pulumi = shutil.which("pulumi")
    if pulumi is None:
        raise OutputsError(
            "the pulumi CLI is not on PATH: install it, or pass --outputs FILE "
            "(saved from `pulumi stack output --json --show-secrets`)"
        )
    command = [pulumi, "stack", "output", "--json", "--show-secrets", "--non-interactive", "--stack", stack]
    try:
        done = subprocess.run(command, cwd=cwd, capture_output=True, timeout=CLI_TIMEOUT, check=False)
    except subprocess.TimeoutExpired:
        raise OutputsError(f"`pulumi stack output --stack {stack}` did not finish within {CLI_TIMEOUT:g} s") from None
    except OSError as error:
        raise OutputsError(f"cannot run {pulumi}: {error.strerror or error}") from None
    if done.returncode != 0:
        lines = [line.strip() for line in done.stderr.decode(errors="replace").splitlines() if line.strip()]
        cause = lines[-1] if lines else f"exit code {done.returncode}"
        raise OutputsError(f"`pulumi stack output --stack {stack}` failed: {cause}")
    return done.stdout
