"""A deployed stack's outputs, as ``pulumi stack output --json --show-secrets`` prints them.

Read from the Pulumi CLI, or from a saved copy of that document (a file, or ``-`` for stdin). Only what
``maas smoke`` needs is validated: the serverless endpoints and their keys (``endpoints``, ``endpointKeys``) and the
Foundry deployments and their accounts' keys (``foundryDeployments``, ``foundryKeys``); other outputs are ignored, so
outputs of a newer or older program still read (a stack deployed before the Foundry channel has no Foundry outputs).
Keys are held as :class:`pydantic.SecretStr` and the document is never echoed: an error names the key path and says
what was expected, nothing more.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, model_validator

from infra.engine.documents import MAX_BYTES
from infra.errors import UserError

HIDDEN_SECRET = "[secret]"
"""What ``pulumi stack output --json`` prints for a secret without ``--show-secrets``."""
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
"""Names of Foundry resources and deployments as Azure allows them (letters, digits, ``.``, ``_``, ``-``): a name
is shown in reports and messages, so the outputs may not smuggle a line break or a terminal escape into one."""
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


class FoundryDeploymentOutput(_Model):
    """One entry of the ``foundryDeployments`` output, keyed ``<account>/<deployment>`` (the shared contract of
    issue 15: a deployment on a Foundry resource, called at ``{baseUrl}/chat/completions`` with ``model`` set to
    ``deployment``)."""

    foundry: str = Field(pattern=NAME_PATTERN, max_length=64)
    """The config name of its Foundry resource (the key of ``foundries`` and ``foundryKeys``)."""
    deployment: str = Field(pattern=NAME_PATTERN, max_length=64)
    """The deployment's name: what requests send as ``model``."""
    format: str
    model_name: str = Field(alias="modelName")
    version: str
    api: Literal["chat", "ocr"]
    base_url: str = Field(alias="baseUrl")
    """``https://<subdomain>.openai.azure.com/openai/v1``."""
    chat_completions_url: str | None = Field(default=None, alias="chatCompletionsUrl")
    """``{baseUrl}/chat/completions``; null (or absent) for an ``ocr`` model."""
    auth_mode: Literal["AAD", "KeyAndAAD"] = Field(alias="authMode")
    """``AAD`` when the resource's local auth (keys) is off, ``KeyAndAAD`` when it is on."""
    content_filter: str = Field(alias="contentFilter")
    sku: str
    capacity: int = Field(ge=0)


class FoundryKeys(_Model):
    key1: SecretStr
    key2: SecretStr


Hidden = Literal["[secret]"]


class StackOutputs(_Model):
    endpoints: dict[str, EndpointOutput] = Field(default_factory=dict)
    endpoint_keys: dict[str, EndpointKeys] | Hidden = Field(default_factory=dict, alias="endpointKeys")
    foundry_deployments: dict[str, FoundryDeploymentOutput] = Field(default_factory=dict, alias="foundryDeployments")
    foundry_keys: dict[str, FoundryKeys] | Hidden = Field(default_factory=dict, alias="foundryKeys")

    @model_validator(mode="after")
    def _consistent(self) -> StackOutputs:
        """Each Foundry deployment is keyed by its own ``<account>/<deployment>`` (what ``--endpoint`` selects and
        the report shows), and no name selects both a serverless endpoint and a Foundry deployment."""
        for name, output in self.foundry_deployments.items():
            if name != f"{output.foundry}/{output.deployment}":
                raise ValueError(
                    f"foundryDeployments.{_key(name)}: the key is not `<foundry>/<deployment>` of its entry "
                    f"({output.foundry}/{output.deployment})"
                )
            if name in self.endpoints:
                raise ValueError(f"foundryDeployments.{name}: the name of a serverless endpoint too (endpoints.{name})")
        return self

    @property
    def keys_hidden(self) -> bool:
        return self.endpoint_keys == HIDDEN_SECRET

    @property
    def foundry_keys_hidden(self) -> bool:
        return self.foundry_keys == HIDDEN_SECRET

    def key_of(self, endpoint: str) -> SecretStr | None:
        if isinstance(self.endpoint_keys, str):
            return None
        keys = self.endpoint_keys.get(endpoint)
        return keys.primary_key if keys else None

    def foundry_key_of(self, foundry: str) -> SecretStr | None:
        """``key1`` of the Foundry resource ``foundry`` (a config name), or ``None`` (no keys, or hidden)."""
        if isinstance(self.foundry_keys, str):
            return None
        keys = self.foundry_keys.get(foundry)
        return keys.key1 if keys else None


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
    if "endpoints" not in document and "foundryDeployments" not in document:
        raise OutputsError(
            f"{origin} has no `endpoints` or `foundryDeployments` output: is the stack deployed (`pulumi up`)?"
        )
    try:
        return StackOutputs.model_validate(document)
    except ValidationError as error:
        raise OutputsError(f"{origin}: {_problems(error)}") from None


def _problems(error: ValidationError) -> str:
    items = error.errors(include_url=False, include_input=False)
    deeper = {item["loc"][0] for item in items if len(item["loc"]) > 2 and item["loc"][0] in _SECRET_OUTPUTS}
    problems = []
    for item in items:
        loc = item["loc"]
        if len(loc) == 2 and loc[0] in deeper and str(loc[1]).startswith("literal"):
            continue  # a map of keys with a wrong entry: that it is not "[secret]" either is no news
        where = ".".join(_key(part) for i, part in enumerate(loc) if not (i == 1 and loc[0] in _SECRET_OUTPUTS))
        context = item.get("ctx") or {}
        message = str(context["error"]) if item["type"] == "value_error" and "error" in context else item["msg"]
        problems.append(f"{where}: {message}" if where else message)
    return "; ".join(dict.fromkeys(problems))


def _key(part: str | int) -> str:
    """A part of a key path as a message shows it: a map key with a line break or another unprintable character
    (a tampered document) in its Python repr, so every error stays one line of plain text."""
    return str(part) if isinstance(part, int) or part.isprintable() else repr(part)


_SECRET_OUTPUTS = frozenset({"endpointKeys", "foundryKeys"})
"""Outputs that are a map of keys or ``[secret]``: pydantic names the member of the union it tried second in an
error's location (``dict[str,EndpointKeys]``, ``literal['[secret]']``), which is no key path."""


def _text(data: bytes, origin: str) -> str:
    """The document's text: at most :data:`documents.MAX_BYTES`, UTF-8 (the offset of a bad byte is given, never
    the byte: the document holds secrets)."""
    if len(data) > MAX_BYTES:
        raise OutputsError(f"{origin} is larger than {MAX_BYTES // (1024 * 1024)} MiB: not stack outputs")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise OutputsError(f"{origin} is not UTF-8 text (a bad byte at offset {error.start})") from None


def read_saved(source: Path) -> StackOutputs:
    """The outputs saved in ``source`` (a file, ``-`` for stdin)."""
    if str(source) == "-":
        return parse(_text(sys.stdin.buffer.read(MAX_BYTES + 1), "the outputs on stdin"), "the outputs on stdin")
    try:
        with source.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise OutputsError(f"cannot read --outputs {source}: {error.strerror or error}") from None
    return parse(_text(data, str(source)), str(source))


def read(stack: str, cwd: Path) -> StackOutputs:
    """The outputs of ``stack`` from the Pulumi CLI run in the project directory ``cwd``; ``stack`` is passed as
    the user gave it (``dev``, ``org/dev``, ``org/project/dev``), so the backend resolves a qualified name."""
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
