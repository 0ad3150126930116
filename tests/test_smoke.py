"""``maas smoke`` end to end against a local server on 127.0.0.1 that serves both chat routes of serverless
endpoints and the ``/openai/v1`` route of Foundry resources as documented, with the dev stack's and a Foundry stack's
recorded ``pulumi stack output --json --show-secrets`` documents pointed at it (allowed with ``--allow-host
127.0.0.1``), or over TLS under the endpoints' and accounts' Azure host names; and against hostile servers and
outputs that try to get a credential sent elsewhere or printed, to hold a check, or to exhaust memory."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import io
import json
import logging
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, quote_plus

import httpx
import pytest
import trustme
from azure.core.exceptions import ClientAuthenticationError

from infra import catalog as catalog_module
from infra.cli import app as cli
from infra.cli import http, output
from infra.cli.commands import smoke
from infra.cli.stack_outputs import OutputsError, parse
from tests import harness
from tests.chat_server import Account, ChatServer, Endpoint, Scripted, chunks, completion, sse
from tests.conftest import PROJECT, ROOT, stack
from tests.docs import blocks, page, section
from tests.fakes import Credential, Fakes
from tests.harness import SIG_KEY, Run, run_program

RECORDED = ROOT / "tests" / "data" / "stack-output-dev.json"
FOUNDRY_RECORDED = ROOT / "tests" / "data" / "stack-output-foundry.json"
TODAY = harness.TODAY.isoformat()
TOKEN = "entra-token-0c4f"
NO_ROLE_TOKEN = "entra-token-without-role"
KEYS = {"chat-mistral-medium": "pk-chat-mistral-medium", "chat-ministral": "pk-chat-ministral"}
FOUNDRY_KEY = "key1-fdy-chat"
"""``key1`` of the Foundry resource fdy-chat (the only one of the Foundry stack with local auth on)."""
STALE_KEY = "key1-fdy-chat-before-rotation"
ODD_KEY = "pk/od\"d\\k+e=y%<&>'"
"""A valid key (printable ASCII) whose escaped forms differ from it: JSON, repr, URL encoding and HTML all change it."""
NOT_HEADER_VALUES = [
    ("pk-line\r\nX-Injected: yes", "holds a control character"),
    ("pk-\x00nul", "holds a control character"),
    ("pk-ключ", "holds a character outside ASCII"),
    ("pk-clé", "holds a character outside ASCII"),
    ("pk two", "holds a space"),
    ("", "is empty"),
]
"""Keys or tokens that cannot follow ``Bearer`` in a header, and why."""
SECRETS = [
    *KEYS.values(),
    "sk-chat-mistral-medium",
    "sk-chat-ministral",
    FOUNDRY_KEY,
    "key2-fdy-chat",
    STALE_KEY,
    TOKEN,
    NO_ROLE_TOKEN,
    ODD_KEY,
    *(value for value, _ in NOT_HEADER_VALUES if value),
]
LOOPBACK = ("--allow-host", "127.0.0.1")
"""What the tests pass to send credentials to the local server over plain http."""
BODY = {
    "messages": [{"role": "user", "content": "Reply with the single word: pong"}],
    "max_tokens": 16,
    "temperature": 0,
    "stream": False,
}
LATENCY = re.compile(r"\d+ ms")
"""A latency: its digits depend on timing, its column's width does not (render.smoke.LATENCY_WIDTH)."""


def without_latency(line: str) -> str:
    """``line`` with each latency replaced by ``N ms`` right-aligned in the latency's own width."""
    return LATENCY.sub(lambda match: "N ms".rjust(len(match.group())), line)


@pytest.fixture
def credential(monkeypatch: pytest.MonkeyPatch) -> Credential:
    made = Credential(TOKEN)
    monkeypatch.setattr(smoke, "default_credential", lambda: made)
    return made


def dev_endpoints() -> dict[str, Endpoint]:
    return {
        "chat-mistral-medium": Endpoint(keys={KEYS["chat-mistral-medium"]}, model="mistral-medium-2505"),
        "chat-ministral": Endpoint(keys={KEYS["chat-ministral"]}, tokens={TOKEN}, model="ministral-3b"),
        "eval-phi4": Endpoint(tokens={TOKEN}, native=False, model="phi-4"),
    }


@pytest.fixture
def server() -> Iterator[ChatServer]:
    with ChatServer(dev_endpoints(), rejected_tokens=frozenset({NO_ROLE_TOKEN})) as running:
        yield running


def recorded() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(RECORDED.read_text(encoding="utf-8"))
    return document


def azure_host(endpoint: str) -> str:
    return f"{endpoint}.eastus2.models.ai.azure.com"


def pointed_at(
    server: ChatServer, document: dict[str, Any] | None = None, host: Callable[[str], str] = lambda _: "127.0.0.1"
) -> dict[str, Any]:
    """The recorded outputs with every endpoint's URLs on the local server, under ``host(endpoint)``."""
    document = document or recorded()
    for name, endpoint in document["endpoints"].items():
        base = server.base(name, host(name))
        endpoint.update(
            inferenceUri=base,
            chatCompletionsUrl=f"{base}/chat/completions",
            nativeChatCompletionsUrl=f"{base}/v1/chat/completions",
        )
    return document


def outputs_file(tmp_path: Path, document: dict[str, Any]) -> Path:
    path = tmp_path / "outputs.json"
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def forms(secret: str) -> set[str]:
    """A secret as it is and as services and libraries print it: a JSON string, the Python repr of text and of
    bytes, URL-encoded, HTML-escaped."""
    return {
        secret,
        json.dumps(secret)[1:-1],
        repr(secret)[1:-1],
        repr(secret.encode())[2:-1],
        quote(secret, safe=""),
        quote_plus(secret),
        html.escape(secret),
    }


def assert_no_secret(text: str) -> None:
    for secret in SECRETS:
        for form in forms(secret):
            assert form not in text, f"{form!r} (a form of a secret) is in the output"


def maas(capsys: pytest.CaptureFixture[str], *args: str, allow: bool = True) -> tuple[int, str, str]:
    """``maas smoke`` with ``args``, allowed to send credentials to 127.0.0.1 unless ``allow`` is false; no
    secret, in any form, in what it printed."""
    code = cli.main(["smoke", "--today", TODAY, *(LOOPBACK if allow else ()), *args])
    captured = capsys.readouterr()
    assert_no_secret(captured.out + captured.err)
    return code, captured.out, captured.err


def smoke_json(
    capsys: pytest.CaptureFixture[str], path: Path, *args: str, allow: bool = True, stderr: str = ""
) -> tuple[int, dict[str, Any]]:
    code, out, err = maas(capsys, "--outputs", str(path), "--format", "json", *args, allow=allow)
    assert err == stderr
    document: dict[str, Any] = json.loads(out)
    for check in document["checks"]:
        assert isinstance(check["latencyMs"], int | None)
        check["latencyMs"] = "ms"
    return code, document


def check(endpoint: str, route: str = "inference", auth: str = "key", **fields: Any) -> dict[str, Any]:
    """One ``checks`` entry of the JSON report; a passed check unless ``fields`` say otherwise."""
    model = dev_endpoints()[endpoint].model
    passed: dict[str, Any] = {
        "endpoint": endpoint,
        "route": route,
        "stream": False,
        "auth": auth,
        "ok": True,
        "status": 200,
        "attempts": 1,
        "latencyMs": "ms",
        "model": model,
        "usage": {"promptTokens": 6, "completionTokens": 2, "totalTokens": 8},
        "reply": "pong",
        "problem": None,
    }
    if fields.get("ok") is False:
        passed.update(model=None, usage=None, reply=None)
    return passed | fields


def failed(endpoint: str, status: int | None, problem: str, **fields: Any) -> dict[str, Any]:
    return check(endpoint, ok=False, status=status, problem=problem, **fields)


# --- the recorded outputs ----------------------------------------------------------------------------------


def _plain(value: Any) -> Any:
    """Stack outputs as ``pulumi stack output --json --show-secrets`` prints them: secrets unwrapped, whole
    numbers without a fraction."""
    if isinstance(value, dict):
        return _plain(value["value"]) if SIG_KEY in value else {k: _plain(v) for k, v in value.items()}
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def test_the_recorded_document_is_what_the_dev_stack_exports(dev_config: dict[str, str]) -> None:
    run: Run = run_program(dev_config)

    assert recorded() == _plain(run.outputs)


def pulumi_printing_outputs_of(server: ChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Fakes:
    """A fake ``pulumi`` first on PATH whose ``stack output`` prints outputs pointed at ``server``."""
    fakes = Fakes(tmp_path / "fakes")
    fakes.add("pulumi")
    fakes.answer("pulumi", ["stack", "output"], stdout=json.dumps(pointed_at(server)))
    fakes.reset()
    monkeypatch.setenv("FAKE_STATE", str(fakes.root))
    monkeypatch.setenv("PATH", f"{fakes.bin}:/usr/bin:/bin")
    return fakes


def test_outputs_come_from_the_pulumi_cli(
    capsys: pytest.CaptureFixture[str],
    server: ChatServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    credential: Credential,
) -> None:
    fakes = pulumi_printing_outputs_of(server, tmp_path, monkeypatch)
    (tmp_path / "Pulumi.yaml").write_text("name: azure-maas\nruntime: python\n", encoding="utf-8")

    code, out, err = maas(capsys, "--stack", "dev", "--cwd", str(tmp_path))

    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "3 of 3 checks passed on stack dev"
    assert [call.argv for call in fakes.calls("pulumi")] == [
        ["stack", "output", "--json", "--show-secrets", "--non-interactive", "--stack", "dev"]
    ]


def test_a_failing_pulumi_cli_exits_2_with_its_last_error_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    fakes = Fakes(tmp_path / "fakes")
    fakes.add("pulumi")
    fakes.answer(
        "pulumi",
        ["stack"],
        stderr="warning: A new version is available\nerror: no stack named 'prod' found\n",
        exit=255,
    )
    fakes.reset()
    monkeypatch.setenv("FAKE_STATE", str(fakes.root))
    monkeypatch.setenv("PATH", f"{fakes.bin}:/usr/bin:/bin")

    assert maas(capsys, "--stack", "prod", "--cwd", str(PROJECT)) == (
        2,
        "",
        "maas smoke: `pulumi stack output --stack prod` failed: error: no stack named 'prod' found\n",
    )


def test_without_the_pulumi_cli_it_says_how_to_pass_outputs(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))

    assert maas(capsys, "--stack", "dev", "--cwd", str(PROJECT)) == (
        2,
        "",
        "maas smoke: the pulumi CLI is not on PATH: install it, or pass --outputs FILE (saved from "
        "`pulumi stack output --json --show-secrets`)\n",
    )


def test_outputs_on_stdin(
    capsys: pytest.CaptureFixture[str], server: ChatServer, monkeypatch: pytest.MonkeyPatch, credential: Credential
) -> None:
    stdin = io.TextIOWrapper(io.BytesIO(json.dumps(pointed_at(server)).encode()), encoding="utf-8")
    monkeypatch.setattr("sys.stdin", stdin)  # a real stdin: the outputs are read as bytes, within a bound

    code, out, err = maas(capsys, "--outputs", "-", "--endpoint", "chat-mistral-medium")

    assert (code, err, out.splitlines()[-1]) == (0, "", "1 of 1 check passed on the outputs on stdin")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"endpointKeys": {"x": "pk-chat-ministral"', "{path} is not JSON (line 1, column 43)"),
        ("[]", "{path} is not a JSON object of stack outputs"),
        (
            '{"resourceGroup": {}}',
            "{path} has no `endpoints` or `foundryDeployments` output: is the stack deployed (`pulumi up`)?",
        ),
        (
            '{"endpoints": {"a": {"workspace": "w", "modelId": "m", "inferenceUri": "u", "chatCompletionsUrl": "u", '
            '"nativeChatCompletionsUrl": "u", "authMode": "Token", "contentSafety": "yes", '
            '"rateLimits": {"tokensPerMinute": 1, "requestsPerMinute": 1}}}}',
            "{path}: endpoints.a.authMode: Input should be 'Key', 'AAD' or 'KeyAndAAD'; "
            "endpoints.a.contentSafety: Input should be a valid boolean",
        ),
    ],
)
def test_unreadable_outputs_exit_2_without_echoing_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "outputs.json"
    path.write_text(text, encoding="utf-8")

    assert maas(capsys, "--outputs", str(path)) == (2, "", f"maas smoke: {message.format(path=path)}\n")


def test_hidden_keys_are_an_error_only_for_endpoints_that_need_one(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    document = pointed_at(server)
    document["endpointKeys"] = "[secret]"  # pulumi stack output --json without --show-secrets
    path = outputs_file(tmp_path, document)

    assert maas(capsys, "--outputs", str(path)) == (
        2,
        "",
        "maas smoke: endpoint 'chat-ministral' needs its key, and endpointKeys is hidden: read the outputs with "
        "`pulumi stack output --json --show-secrets`\n",
    )
    code, out, err = maas(capsys, "--outputs", str(path), "--endpoint", "eval-phi4")
    assert (code, err, out.splitlines()[-1]) == (0, "", f"1 of 1 check passed on the outputs in {path}")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--endpoint", "chat-mistral", "--endpoint", "eval-phi4", "--endpoint", "nope"],
            "--endpoint 'chat-mistral', 'nope': not an endpoint of the stack; endpoints: chat-ministral, "
            "chat-mistral-medium, eval-phi4",
        ),
        (["--auth", "entra"], "--auth entra: endpoint 'chat-mistral-medium' takes keys only (authMode Key)"),
        (["--auth", "key"], "--auth key: endpoint 'eval-phi4' takes Entra ID tokens only (authMode AAD)"),
    ],
)
def test_an_invalid_selection_exits_2_before_any_request(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path, args: list[str], message: str
) -> None:
    path = outputs_file(tmp_path, pointed_at(server))

    assert maas(capsys, "--outputs", str(path), *args) == (2, "", f"maas smoke: {message}\n")
    assert server.requests == []


def test_a_key_missing_from_the_outputs(capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path) -> None:
    document = pointed_at(server)
    del document["endpointKeys"]["chat-mistral-medium"]

    assert maas(capsys, "--outputs", str(outputs_file(tmp_path, document)), "-e", "chat-mistral-medium") == (
        2,
        "",
        "maas smoke: endpointKeys has no key for endpoint 'chat-mistral-medium' (authMode Key): run `pulumi up`\n",
    )


def test_parsed_outputs_hold_keys_as_secrets() -> None:
    outputs = parse(RECORDED.read_text(encoding="utf-8"), "recorded")

    assert list(outputs.endpoints) == ["chat-ministral", "chat-mistral-medium", "eval-phi4"]
    assert "pk-chat-ministral" not in repr(outputs)
    key = outputs.key_of("chat-ministral")
    assert key is not None
    assert key.get_secret_value() == "pk-chat-ministral"
    assert outputs.key_of("eval-phi4") is None
    with pytest.raises(OutputsError, match=r"^x: endpoints: Input should be a valid dictionary$"):
        parse('{"endpoints": []}', "x")


# --- every endpoint, both routes, plain and streamed -------------------------------------------------------


def test_every_endpoint_answers_on_the_inference_route(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    code, report = smoke_json(capsys, outputs_file(tmp_path, pointed_at(server)))

    assert code == 0
    assert report == {
        "schemaVersion": 1,
        "stack": None,  # saved outputs, and no --stack to name them
        "passed": 3,
        "failed": 0,
        "checks": [check("chat-ministral"), check("chat-mistral-medium"), check("eval-phi4", auth="entra")],
    }
    assert {(r.endpoint, r.path, r.headers["Authorization"]) for r in server.requests} == {
        ("chat-ministral", "/chat/completions", "Bearer pk-chat-ministral"),
        ("chat-mistral-medium", "/chat/completions", "Bearer pk-chat-mistral-medium"),
        ("eval-phi4", "/chat/completions", f"Bearer {TOKEN}"),
    }
    assert all(r.body == BODY and r.headers["Content-Type"] == "application/json" for r in server.requests)
    assert credential.scopes == [("https://ml.azure.com/.default",)]


def test_native_and_inference_routes_streamed(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    path = outputs_file(tmp_path, pointed_at(server))

    code, report = smoke_json(
        capsys,
        path,
        "--route",
        "native",
        "--route",
        "inference",
        "--stream",
        "-e",
        "chat-mistral-medium",
        "-e",
        "chat-ministral",
    )

    assert code == 0
    assert report["checks"] == [
        check("chat-ministral", stream=True),
        check("chat-ministral", "native", stream=True),
        check("chat-mistral-medium", stream=True),
        check("chat-mistral-medium", "native", stream=True),
    ]
    assert sorted(r.path for r in server.requests) == ["/chat/completions"] * 2 + ["/v1/chat/completions"] * 2
    assert all(r.body == BODY | {"stream": True} for r in server.requests)
    assert all(r.headers["Accept"] == "text/event-stream" for r in server.requests)
    assert credential.scopes == []  # no AAD endpoint selected: no token asked for


def test_entra_id_for_a_key_and_aad_endpoint_with_a_chosen_scope(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    path = outputs_file(tmp_path, pointed_at(server))
    scope = "https://cognitiveservices.azure.com/.default"

    code, report = smoke_json(
        capsys, path, "--auth", "entra", "-e", "chat-ministral", "-e", "eval-phi4", "--token-scope", scope
    )

    assert code == 0
    assert report["checks"] == [check("chat-ministral", auth="entra"), check("eval-phi4", auth="entra")]
    assert credential.scopes == [(scope,)]  # one token for every check
    assert {r.headers["Authorization"] for r in server.requests} == {f"Bearer {TOKEN}"}


def test_the_text_report(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    server.script("chat-mistral-medium", Scripted(503, {"Retry-After": "0"}, {"error": {"message": "Busy"}}))
    server.script("eval-phi4", Scripted(404, body={"error": {"code": "NotFound", "message": "Not found"}}))

    path = outputs_file(tmp_path, pointed_at(server))
    code, out, err = maas(capsys, "--outputs", str(path))

    assert (code, err) == (1, "")
    assert [without_latency(line).rstrip() for line in out.splitlines()] == [
        "",
        " Endpoint              Route       Auth       Status               Latency      Tokens   Reply",
        " " + "━" * 93,
        " chat-ministral        inference   key        200 ok                  N ms   6 + 2 = 8   pong",
        " chat-mistral-medium   inference   key        200 ok (2 tries)        N ms   6 + 2 = 8   pong",
        " eval-phi4             inference   Entra ID   404 failed              N ms           -   -",
        "",
        "✗ eval-phi4 (inference): 404 Not Found: no endpoint at "
        f"{server.base('eval-phi4')}/chat/completions: deleted outside Pulumi, or its model was retired (run "
        "`pulumi refresh`; `maas models --all` shows retirements) (the service says: Not found)",
        f"2 of 3 checks passed on the outputs in {path}",
    ]


# --- failures and their diagnoses --------------------------------------------------------------------------


def test_a_wrong_key_is_diagnosed_and_never_printed(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path
) -> None:
    document = pointed_at(server)
    document["endpointKeys"]["chat-mistral-medium"]["primaryKey"] = "sk-chat-mistral-medium"  # the other key, rotated

    code, report = smoke_json(capsys, outputs_file(tmp_path, document), "-e", "chat-mistral-medium")

    assert code == 1
    assert report["checks"] == [
        failed(
            "chat-mistral-medium",
            401,
            "401 Unauthorized: the endpoint rejected the key from the stack outputs; it changed since the last "
            "`pulumi up` (run `pulumi refresh` and `pulumi up`, then smoke again) (the service says: Access denied "
            "due to invalid subscription key or token.)",
        )
    ]


def test_an_identity_without_a_role_is_diagnosed(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    credential.token = NO_ROLE_TOKEN

    code, report = smoke_json(capsys, outputs_file(tmp_path, pointed_at(server)), "-e", "eval-phi4")

    assert code == 1
    assert report["checks"] == [
        failed(
            "eval-phi4",
            403,
            "403 Forbidden: the signed-in identity has no role allowing inference on workspace 'proj-eval': grant "
            "Azure AI Developer (`role: developer` in azure-maas:access) (the service says: Principal does not have "
            "access to the API/Operation.)",
            auth="entra",
        )
    ]


def test_a_token_the_endpoint_rejects(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    credential.token = "token-of-another-tenant"

    _, report = smoke_json(capsys, outputs_file(tmp_path, pointed_at(server)), "-e", "eval-phi4")

    assert report["checks"][0]["problem"] == (
        "401 Unauthorized: the endpoint rejected the Entra ID token (scope https://ml.azure.com/.default); check the "
        "endpoint's authMode (AAD) and that you signed in to its tenant (the service says: Access denied due to "
        "invalid subscription key or token.)"
    )


def test_no_entra_token_fails_only_the_aad_checks_and_is_asked_for_once(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    credential.error = ClientAuthenticationError(
        "DefaultAzureCredential failed to retrieve a token from the included credentials.\nAttempted credentials:\n"
        "\tEnvironmentCredential: EnvironmentCredential authentication unavailable."
    )
    document = pointed_at(server)
    document["endpoints"]["eval-phi4-copy"] = document["endpoints"]["eval-phi4"]

    code, report = smoke_json(capsys, outputs_file(tmp_path, document))

    problem = (
        "no Entra ID token for https://ml.azure.com/.default: DefaultAzureCredential failed to retrieve a token from "
        "the included credentials. (sign in with `az login`, or set AZURE_CLIENT_ID/AZURE_TENANT_ID for a workload "
        "identity)"
    )
    assert code == 1
    assert report["checks"] == [
        check("chat-ministral"),
        check("chat-mistral-medium"),
        failed("eval-phi4", None, problem, auth="entra", attempts=0, latencyMs="ms"),
        failed("eval-phi4", None, problem, auth="entra", attempts=0, latencyMs="ms") | {"endpoint": "eval-phi4-copy"},
    ]
    assert len(credential.scopes) == 1


def test_an_endpoint_that_is_gone(capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path) -> None:
    document = pointed_at(server)
    document["endpoints"]["chat-mistral-medium"]["chatCompletionsUrl"] = f"{server.base('deleted')}/chat/completions"

    _, report = smoke_json(capsys, outputs_file(tmp_path, document), "-e", "chat-mistral-medium")

    assert report["checks"][0]["problem"] == (
        f"404 Not Found: no endpoint at {server.base('deleted')}/chat/completions: deleted outside Pulumi, or its "
        "model was retired (run `pulumi refresh`; `maas models --all` shows retirements) (the service says: Resource "
        "not found)"
    )


def test_a_retired_model_is_named_with_its_replacement(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path
) -> None:
    document = pointed_at(server)
    document["endpoints"]["chat-mistral-medium"]["modelId"] = (
        "azureml://registries/azureml-mistral/models/Mistral-large"
    )
    server.script("chat-mistral-medium", Scripted(404, body={"error": {"code": "NotFound", "message": "Not found"}}))

    _, report = smoke_json(capsys, outputs_file(tmp_path, document), "-e", "chat-mistral-medium")

    assert report["checks"][0]["problem"] == (
        "404 Not Found: the model is retired: Mistral Large (2402) (azureml://registries/azureml-mistral/models/"
        "Mistral-large) was retired on 2025-04-15; use 'mistral-medium-2505' (azureml://registries/azureml-mistral/"
        "models/mistral-medium-2505) instead (the service says: Not found)"
    )


def test_the_native_route_of_a_model_without_one(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    _, report = smoke_json(capsys, outputs_file(tmp_path, pointed_at(server)), "-e", "eval-phi4", "--route", "native")

    assert report["checks"][0]["problem"] == (
        "404 Not Found: azureml://registries/azureml/models/Phi-4 does not serve the native route /v1/chat/completions "
        "(Mistral and AI21 models do); use --route inference (the service says: Route not found)"
    )


def test_retries_count_and_connection_failures(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path
) -> None:
    server.script("chat-mistral-medium", Scripted(502, {"Retry-After": "0"}), Scripted(502, {"Retry-After": "0"}))
    document = pointed_at(server)
    document["endpoints"]["chat-ministral"].update(
        inferenceUri="http://127.0.0.1:9", chatCompletionsUrl="http://127.0.0.1:9/chat/completions"
    )

    _, report = smoke_json(
        capsys, outputs_file(tmp_path, document), "--retries", "1", "-e", "chat-mistral-medium", "-e", "chat-ministral"
    )

    assert report["checks"][0]["problem"].startswith("cannot reach 127.0.0.1: ")
    assert report["checks"][0]["status"] is None
    assert report["checks"][1] == failed(
        "chat-mistral-medium", 502, "502 Bad Gateway: still failing after 2 attempts", attempts=2
    )


# --- retries, Retry-After and timeouts (the runner, with its waits recorded) --------------------------------


@pytest.fixture
def outputs(server: ChatServer) -> Any:
    return parse(json.dumps(pointed_at(server)), "outputs")


def runner(client: httpx.Client, waits: list[float], **policy: Any) -> smoke.Smoke:
    return smoke.Smoke(
        client,
        credential=lambda: Credential(TOKEN),
        policy=smoke.RetryPolicy(**policy),
        today=harness.TODAY,
        sleep=waits.append,
    )


def one(outputs: Any, name: str = "chat-mistral-medium", **selection: Any) -> list[smoke.Target[Any]]:
    return smoke.targets(outputs, [name], allow_hosts=["127.0.0.1"], **selection)


def test_429_honours_retry_after_then_passes(server: ChatServer, outputs: Any) -> None:
    server.script(
        "chat-mistral-medium",
        Scripted(429, {"Retry-After": "7"}),
        Scripted(429, {"retry-after-ms": "1500", "Retry-After": "2"}),
        Scripted(503),
    )
    waits: list[float] = []
    with httpx.Client() as client:
        [result] = runner(client, waits).run(one(outputs))

    assert waits == [7.0, 1.5, 4.0]  # Retry-After, then Azure's retry-after-ms, then backoff 1 * 2 ** 2
    assert (result.ok, result.status, result.attempts, result.reply) == (True, 200, 4, "pong")


def test_5xx_backs_off_exponentially_within_bounds(server: ChatServer, outputs: Any) -> None:
    server.script("chat-mistral-medium", *[Scripted(500, body={"error": {"message": "Internal error"}})] * 4)
    waits: list[float] = []
    with httpx.Client() as client:
        [result] = runner(client, waits).run(one(outputs))

    assert waits == [1.0, 2.0, 4.0]
    assert (result.ok, result.status, result.attempts) == (False, 500, 4)
    assert result.problem == "500 Internal Server Error: still failing after 4 attempts (Internal error)"


def test_a_retry_after_beyond_the_bound_ends_the_check(server: ChatServer, outputs: Any) -> None:
    server.script("chat-mistral-medium", Scripted(429, {"Retry-After": "120"}))
    waits: list[float] = []
    with httpx.Client() as client:
        [result] = runner(client, waits).run(one(outputs))

    assert waits == []
    assert (result.status, result.attempts) == (429, 1)
    assert result.problem == (
        "429 Too Many Requests: the service asked to retry after 120 s, more than the 30 s this waits (the "
        "deployment's quota: 200000 tokens and 1000 requests per minute)"
    )


def test_429_exhausted_names_the_quota(server: ChatServer, outputs: Any) -> None:
    server.script("chat-mistral-medium", *[Scripted(429, {"Retry-After": "0"})] * 2)
    waits: list[float] = []
    with httpx.Client() as client:
        [result] = runner(client, waits, attempts=2).run(one(outputs))

    assert waits == [0.0]
    assert result.problem == (
        "429 Too Many Requests: still failing after 2 attempts (the deployment's quota: 200000 tokens and 1000 "
        "requests per minute)"
    )


def test_retry_after_forms() -> None:
    now = dt.datetime(2026, 11, 23, 12, 0, 0, tzinfo=dt.UTC)

    def wait(**headers: str) -> float | None:
        return http.retry_after(httpx.Headers({k.replace("_", "-"): v for k, v in headers.items()}), lambda: now)

    assert wait(retry_after="3") == 3.0
    assert wait(retry_after="Mon, 23 Nov 2026 12:00:10 GMT") == 10.0
    assert wait(retry_after="Mon, 23 Nov 2026 11:59:00 GMT") == 0.0
    assert wait(retry_after_ms="250", retry_after="9") == 0.25
    assert wait(x_ms_retry_after_ms="40") == 0.04
    assert wait(retry_after="soon") is None
    assert wait() is None


def test_a_slow_answer_times_out_without_a_retry(server: ChatServer, outputs: Any) -> None:
    server.script("chat-mistral-medium", Scripted(delay=5.0, body=completion("m", 1)))
    waits: list[float] = []
    with httpx.Client() as client:
        [result] = runner(client, waits, timeout=0.3).run(one(outputs))

    assert (result.ok, result.status, result.attempts, waits) == (False, None, 1, [])
    assert result.problem == "no complete answer within 0.3 s (timeout)"


def test_a_stream_that_trickles_past_the_timeout(server: ChatServer, outputs: Any) -> None:
    lines = sse(*chunks("m", 1) * 2)[:-1]  # chunks without end, each within the read timeout
    server.script("chat-mistral-medium", Scripted(stream=lines, gap=0.15))
    with httpx.Client() as client:
        [result] = runner(client, [], timeout=0.4).run(one(outputs), stream=True)

    assert (result.ok, result.status, result.problem) == (False, 200, "no complete answer within 0.4 s (timeout)")


# --- the documented schema ---------------------------------------------------------------------------------


def _without(document: dict[str, Any], *path: str | int) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(document))
    target: Any = copy
    for part in path[:-1]:
        target = target[part]
    del target[path[-1]]
    return copy


def _with(document: dict[str, Any], value: Any, *path: str | int) -> dict[str, Any]:
    copy: dict[str, Any] = json.loads(json.dumps(document))
    target: Any = copy
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    return copy


GOOD = completion("mistral-medium-2505", 6)
SCHEMA = "the response does not match the chat completions schema: "


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (_without(GOOD, "usage"), SCHEMA + "usage: Field required"),
        (_with(GOOD, "text_completion", "object"), SCHEMA + "object: Input should be 'chat.completion'"),
        (_with(GOOD, [], "choices"), SCHEMA + "choices: List should have at least 1 item after validation, not 0"),
        (
            _with(GOOD, None, "choices", 0, "finish_reason"),
            SCHEMA + "choices.0.finish_reason: Input should be 'stop', 'length' or 'content_filter'",
        ),
        (_with(GOOD, "12", "usage", "total_tokens"), SCHEMA + "usage.total_tokens: Input should be a valid integer"),
        (_without(GOOD, "choices", 0, "message", "content"), SCHEMA + "choices.0.message.content: Field required"),
        (
            _with(_with(GOOD, "content_filter", "choices", 0, "finish_reason"), "", "choices", 0, "message", "content"),
            "content filtering blocked the reply (finish_reason content_filter)",
        ),
        (_with(GOOD, "  ", "choices", 0, "message", "content"), "the reply is empty"),
        ("<html>gateway</html>", SCHEMA + "(document): Invalid JSON: expected value at line 1 column 1"),
    ],
)
def test_answers_that_break_the_schema(server: ChatServer, outputs: Any, body: Any, problem: str) -> None:
    server.script("chat-mistral-medium", Scripted(body=body))
    with httpx.Client() as client:
        [result] = runner(client, []).run(one(outputs))

    assert (result.ok, result.status, result.problem) == (False, 200, problem)


STREAM = chunks("mistral-medium-2505", 6)
CHUNK = "does not match the chat completions schema: "


@pytest.mark.parametrize(
    ("lines", "problem"),
    [
        (sse(*STREAM), "the stream ended without `data: [DONE]` after 4 chunks"),
        (sse(*STREAM[:-1], _without(STREAM[-1], "usage"), "[DONE]"), "the last stream chunk (of 4) carries no usage"),
        (sse(*STREAM[:-1], "[DONE]"), "no stream chunk carried a finish_reason"),
        (sse("[DONE]"), "the stream sent `data: [DONE]` before any chunk"),
        (
            sse(STREAM[0], _with(STREAM[1], "chat.completion", "object"), *STREAM[2:], "[DONE]"),
            f"stream chunk 2 {CHUNK}object: Input should be 'chat.completion.chunk'",
        ),
        (
            sse(STREAM[0], "{oops", "[DONE]"),
            f"stream chunk 2 {CHUNK}(document): Invalid JSON: key must be a string at line 1 column 2",
        ),
        (
            sse(*STREAM[:-1], _with(STREAM[-1], "content_filter", "choices", 0, "finish_reason"), "[DONE]"),
            "content filtering blocked the reply (finish_reason content_filter)",
        ),
    ],
)
def test_streams_that_break_the_schema(server: ChatServer, outputs: Any, lines: list[str], problem: str) -> None:
    server.script("chat-mistral-medium", Scripted(stream=lines))
    with httpx.Client() as client:
        [result] = runner(client, []).run(one(outputs), stream=True)

    assert (result.ok, result.problem) == (False, problem)


def test_a_stream_that_is_not_server_sent_events(server: ChatServer, outputs: Any) -> None:
    server.script("chat-mistral-medium", Scripted(body=GOOD))  # the plain answer to a streamed request
    with httpx.Client() as client:
        [result] = runner(client, []).run(one(outputs), stream=True)

    assert result.problem == (
        "the streamed answer is not server-sent events: its Content-Type is 'application/json', not text/event-stream"
    )


def test_a_credential_echoed_back_is_redacted(server: ChatServer, outputs: Any) -> None:
    server.script(
        "chat-mistral-medium", Scripted(400, body={"error": {"message": "bad header Bearer pk-chat-mistral-medium"}})
    )
    with httpx.Client() as client:
        [result] = runner(client, []).run(one(outputs))

    assert result.problem == "400 Bad Request: the request was refused (the service says: bad header Bearer ***)"


# --- the docs ----------------------------------------------------------------------------------------------

SMOKE_SECTION = section(page("cli.md"), "## Smoke test the endpoints: `maas smoke`")
COMMAND = "$ uv run maas smoke "


def _words(text: str) -> list[list[str]]:
    """Lines as words, latencies normalized: rich pads columns to the widest latency."""
    return [without_latency(line).split() for line in text.splitlines()]


def test_the_docs_samples_are_what_the_commands_print(
    capsys: pytest.CaptureFixture[str], foundry: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    """Against the local server, with a signed-in identity that has no role on proj-eval nor on fdy-docs (as the
    docs say): a sample of ``--stack dev`` reads the dev stack's recorded outputs, one of ``--stack foundry`` the
    Foundry stack's (whose OCR deployment is skipped on stderr)."""
    credential.token = NO_ROLE_TOKEN
    (tmp_path / "foundry").mkdir()
    outputs = {
        "dev": (outputs_file(tmp_path, pointed_at(foundry)), ""),
        "foundry": (outputs_file(tmp_path / "foundry", foundry_pointed_at(foundry)), SKIPPED_OCR),
    }
    samples = [b.partition("\n") for b in blocks(SMOKE_SECTION, "console") if b.startswith(COMMAND)]
    stacks = [re.search(r"--stack (\S+)", command)[1] for command, _, _ in samples]  # type: ignore[index]

    assert (stacks.count("dev"), set(stacks) <= {"dev", "foundry"}) == (2, True)
    for (command, _, shown), name in zip(samples, stacks, strict=True):
        path, stderr = outputs[name]
        code, out, err = maas(capsys, *command.removeprefix(COMMAND).split(), "--outputs", str(path))
        assert (code, err) == (0 if "passed" in shown and "✗" not in shown else 1, stderr)
        assert _words(out) == _words(shown)


def test_an_undecodable_answer(server: ChatServer, outputs: Any) -> None:
    server.script("chat-mistral-medium", Scripted(headers={"Content-Encoding": "gzip"}, body="not gzip"))
    with httpx.Client() as client:
        [garbled] = runner(client, []).run(one(outputs))

    assert (garbled.status, garbled.problem) == (
        None,
        "the request failed: Error -3 while decompressing data: incorrect header check",
    )


def test_auto_auth_per_endpoint(outputs: Any) -> None:
    without_key = outputs.model_copy(update={"endpoint_keys": {}})

    local = ["127.0.0.1"]
    assert [
        (t.endpoint, t.route, t.auth) for t in smoke.targets(outputs, routes=["native", "inference"], allow_hosts=local)
    ] == [
        ("chat-ministral", "inference", "key"),
        ("chat-ministral", "native", "key"),
        ("chat-mistral-medium", "inference", "key"),
        ("chat-mistral-medium", "native", "key"),
        ("eval-phi4", "inference", "entra"),
        ("eval-phi4", "native", "entra"),
    ]
    assert [t.auth for t in smoke.targets(without_key, ["chat-ministral", "eval-phi4"], allow_hosts=local)] == [
        "entra",
        "entra",
    ]
    with pytest.raises(smoke.SmokeInputError, match=r"^endpointKeys has no key for endpoint 'chat-mistral-medium'"):
        smoke.targets(without_key, ["chat-mistral-medium"], allow_hosts=local)


def test_an_internal_failure_exits_3(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object, **__: object) -> list[smoke.Result]:
        raise RuntimeError("boom")

    monkeypatch.setattr(smoke.Smoke, "run", broken)

    assert maas(capsys, "--outputs", str(outputs_file(tmp_path, pointed_at(server)))) == (
        3,
        "",
        "maas smoke: internal error: RuntimeError: boom\n",
    )


def test_one_line() -> None:
    assert output.one_line(" a  b\n\tc ", 10) == "a b c"
    assert output.one_line("x" * 30, 24) == "x" * 23 + "…"
    assert output.one_line("x" * 24, 24) == "x" * 24


# --- models that do not answer chat completions ------------------------------------------------------------


def _with_ocr_endpoint(server: ChatServer) -> dict[str, Any]:
    document = pointed_at(server)
    document["endpoints"]["docs"] = {
        "workspace": "proj-eval",
        "modelId": "azureml://registries/azureml-mistral/models/mistral-document-ai-2505",
        "api": "ocr",
        "inferenceUri": server.base("docs"),
        "authMode": "AAD",
        "contentSafety": True,
        "rateLimits": {"tokensPerMinute": 200000, "requestsPerMinute": 1000},
    }
    return document


def test_an_ocr_model_is_never_sent_a_chat_request(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    path = outputs_file(tmp_path, _with_ocr_endpoint(server))

    code, out, err = maas(capsys, "--outputs", str(path), "--format", "json")

    assert code == 0
    assert err == (
        "maas smoke: skipped endpoint 'docs': Mistral Document AI 25.05 "
        "(azureml://registries/azureml-mistral/models/mistral-document-ai-2505) answers the OCR / document AI API, "
        "not chat completions\n"
    )
    assert [c["endpoint"] for c in json.loads(out)["checks"]] == ["chat-ministral", "chat-mistral-medium", "eval-phi4"]
    assert server.requests_to("docs") == []


def test_naming_an_ocr_endpoint_exits_2(capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path) -> None:
    path = outputs_file(tmp_path, _with_ocr_endpoint(server))

    assert maas(capsys, "--outputs", str(path), "--endpoint", "docs") == (
        2,
        "",
        "maas smoke: --endpoint 'docs': Mistral Document AI 25.05 "
        "(azureml://registries/azureml-mistral/models/mistral-document-ai-2505) answers the OCR / document AI API, "
        "not chat completions; maas smoke sends chat requests only\n",
    )
    assert server.requests == []


# --- where credentials may go ------------------------------------------------------------------------------

AZURE_HOSTS = "*.models.ai.azure.com, *.services.ai.azure.com, *.openai.azure.com"
GATEWAY = "gateway.contoso.example"
PROXY_VARIABLES = ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy")


@pytest.fixture
def names(monkeypatch: pytest.MonkeyPatch) -> None:
    """Names under the Azure inference domains (models.ai.azure.com, openai.azure.com, services.ai.azure.com) and
    .example resolve to 127.0.0.1; any other name but localhost fails to resolve: no test reaches the network, and a
    credential sent to one of these names reaches a local server."""
    real = socket.getaddrinfo

    def resolve(host: Any, port: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name.endswith((".models.ai.azure.com", ".openai.azure.com", ".services.ai.azure.com", ".example")):
            return real("127.0.0.1", port, *args, **kwargs)
        if name in ("127.0.0.1", "localhost", "::1"):
            return real(host, port, *args, **kwargs)
        raise socket.gaierror(socket.EAI_NONAME, f"{name} does not resolve in the tests")

    monkeypatch.setattr(socket, "getaddrinfo", resolve)
    for variable in PROXY_VARIABLES:
        monkeypatch.delenv(variable, raising=False)


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def azure(ca: trustme.CA, names: None, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ChatServer]:
    """The chat server over TLS, serving the dev endpoints and the Foundry stack's accounts, with a certificate for
    *.eastus2.models.ai.azure.com, *.openai.azure.com, *.services.ai.azure.com and gateway.contoso.example (a gateway
    in front of the endpoints) from a CA the client trusts (``SSL_CERT_FILE``, which httpx reads)."""
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(
        "*.eastus2.models.ai.azure.com", "*.openai.azure.com", "*.services.ai.azure.com", GATEWAY
    ).configure_cert(context)
    with ChatServer(
        dev_endpoints(), rejected_tokens=frozenset({NO_ROLE_TOKEN}), tls=context, accounts=foundry_accounts()
    ) as running:
        yield running


def test_an_azure_inference_host_over_https_needs_no_option(
    capsys: pytest.CaptureFixture[str], azure: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    code, report = smoke_json(capsys, outputs_file(tmp_path, pointed_at(azure, host=azure_host)), allow=False)

    assert (code, report["passed"]) == (0, 3)
    assert sorted((r.endpoint, r.headers["Host"]) for r in azure.requests) == [
        (name, f"{azure_host(name)}:{azure.port}") for name in ("chat-ministral", "chat-mistral-medium", "eval-phi4")
    ]


def test_another_host_over_https_needs_allow_host(
    capsys: pytest.CaptureFixture[str], azure: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    path = outputs_file(tmp_path, pointed_at(azure, host=lambda _: GATEWAY))

    assert maas(capsys, "--outputs", str(path), "-e", "eval-phi4", allow=False) == (
        2,
        "",
        f"maas smoke: endpoints.eval-phi4.inferenceUri: {GATEWAY} is not an Azure inference host ({AZURE_HOSTS}); "
        f"keys and tokens go to another host only with --allow-host {GATEWAY}\n",
    )
    assert azure.requests == []
    code, report = smoke_json(capsys, path, "--allow-host", GATEWAY, allow=False)
    assert (code, report["passed"]) == (0, 3)
    assert {r.headers["Host"] for r in azure.requests} == {f"{GATEWAY}:{azure.port}"}


def test_credentials_go_to_no_other_host_unless_allowed(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    path = outputs_file(tmp_path, pointed_at(server))

    assert maas(capsys, "--outputs", str(path), allow=False) == (
        2,
        "",
        "maas smoke: endpoints.chat-ministral.inferenceUri: 127.0.0.1 is not an Azure inference host "
        f"({AZURE_HOSTS}); keys and tokens go to another host only with --allow-host 127.0.0.1\n",
    )
    assert server.requests == []


def _moved(server: ChatServer, key: str, url: str) -> dict[str, Any]:
    document = pointed_at(server)
    document["endpoints"]["chat-mistral-medium"][key] = url
    return document


@pytest.mark.parametrize(
    ("move", "args", "message"),
    [
        pytest.param(
            lambda server, other: _moved(server, "chatCompletionsUrl", f"{other.base('x')}/chat/completions"),
            [],
            "endpoints.chat-mistral-medium.chatCompletionsUrl: http://127.0.0.1:{other} is not the origin of "
            "inferenceUri (http://127.0.0.1:{port}); keys and tokens go there only",
            id="another port",
        ),
        pytest.param(
            lambda server, other: _moved(
                server, "chatCompletionsUrl", f"{server.base('chat-mistral-medium', 'localhost')}/chat/completions"
            ),
            [],
            "endpoints.chat-mistral-medium.chatCompletionsUrl: http://localhost:{port} is not the origin of "
            "inferenceUri (http://127.0.0.1:{port}); keys and tokens go there only",
            id="another host name",
        ),
        pytest.param(
            lambda server, other: _moved(
                server, "nativeChatCompletionsUrl", f"{other.base('chat-mistral-medium')}/v1/chat/completions"
            ),
            ["--route", "native"],
            "endpoints.chat-mistral-medium.nativeChatCompletionsUrl: http://127.0.0.1:{other} is not the origin of "
            "inferenceUri (http://127.0.0.1:{port}); keys and tokens go there only",
            id="the native route",
        ),
        pytest.param(
            lambda server, other: _moved(server, "chatCompletionsUrl", "ftp://files.example/chat/completions"),
            [],
            "endpoints.chat-mistral-medium.chatCompletionsUrl: ftp://files.example is not the origin of "
            "inferenceUri (http://127.0.0.1:{port}); keys and tokens go there only",
            id="another scheme",
        ),
        pytest.param(
            lambda server, other: pointed_at(server, host=azure_host),
            [],
            "endpoints.chat-mistral-medium.inferenceUri: http://chat-mistral-medium.eastus2.models.ai.azure.com:{port} "
            "is not https; keys and tokens go over plain http only to a loopback address given to --allow-host",
            id="an Azure host over http",
        ),
        pytest.param(
            lambda server, other: pointed_at(server, host=lambda _: "evil.example"),
            ["--allow-host", "EVIL.example"],
            "endpoints.chat-mistral-medium.inferenceUri: http://evil.example:{port} is not https; keys and tokens go "
            "over plain http only to a loopback address given to --allow-host",
            id="an allowed host over http",
        ),
        pytest.param(
            lambda server, other: _moved(server, "inferenceUri", "chat-mistral-medium.eastus2.models.ai.azure.com"),
            [],
            "endpoints.chat-mistral-medium.inferenceUri: not an absolute http(s) URL",
            id="no scheme",
        ),
    ],
)
def test_a_credential_is_sent_to_the_endpoints_own_origin_only(
    capsys: pytest.CaptureFixture[str],
    server: ChatServer,
    names: None,
    tmp_path: Path,
    move: Callable[[ChatServer, ChatServer], dict[str, Any]],
    args: list[str],
    message: str,
) -> None:
    """A tampered outputs document exits 2 before any request; the server on the other origin records none."""
    with ChatServer(dev_endpoints()) as other:
        path = outputs_file(tmp_path, move(server, other))

        code, out, err = maas(capsys, "--outputs", str(path), "-e", "chat-mistral-medium", *args)

    assert (code, out, err) == (2, "", f"maas smoke: {message.format(port=server.port, other=other.port)}\n")
    assert (server.requests, other.requests) == ([], [])


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("http://127.0.0.1", "'http://127.0.0.1' is not a host name or IP address (no scheme, port or path)"),
        ("127.0.0.1:8080", "'127.0.0.1:8080' is not a host name or IP address (no scheme, port or path)"),
        ("", "'' is not a host name or IP address (no scheme, port or path)"),
    ],
)
def test_allow_host_takes_a_host_only(capsys: pytest.CaptureFixture[str], value: str, problem: str) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["smoke", "--allow-host", value])

    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"maas smoke: error: argument --allow-host: {problem}"


def test_an_ipv6_loopback_is_allowed_in_any_spelling() -> None:
    document = json.loads(RECORDED.read_text(encoding="utf-8"))
    document["endpoints"]["eval-phi4"].update(
        inferenceUri="http://[::1]:8080/eval-phi4", chatCompletionsUrl="http://[0:0::1]:8080/eval-phi4/chat/completions"
    )
    loopback = parse(json.dumps(document), "outputs")

    [target] = smoke.targets(loopback, ["eval-phi4"], allow_hosts=[smoke.allowed_host("[0::1]")])
    assert target.url == "http://[0:0::1]:8080/eval-phi4/chat/completions"
    with pytest.raises(smoke.SmokeInputError, match=r"^endpoints.eval-phi4.inferenceUri: ::1 is not an Azure"):
        smoke.targets(loopback, ["eval-phi4"])


def test_plain_http_to_an_allowed_loopback_address_bypasses_proxies(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy from the environment would read the key sent over plain http: the client goes direct."""
    with ChatServer({}) as proxy:
        for variable in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
            monkeypatch.setenv(variable, f"http://127.0.0.1:{proxy.port}")
        for variable in ("NO_PROXY", "no_proxy"):
            monkeypatch.delenv(variable, raising=False)

        code, out, err = maas(
            capsys, "--outputs", str(outputs_file(tmp_path, pointed_at(server))), "-e", "chat-ministral", "-s", "dev"
        )

    assert (code, err, out.splitlines()[-1]) == (0, "", "1 of 1 check passed on stack dev")
    assert proxy.requests == []


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            "http://evil.example/chat/completions",
            "refused to send a credential to http://evil.example: not https",
        ),
        (
            "https://evil.example/chat/completions",
            "refused to send a credential to https://evil.example/chat/completions: not the origin of the "
            "endpoint's inferenceUri",
        ),
    ],
)
def test_the_runner_refuses_a_hand_made_target(names: None, outputs: Any, url: str, problem: str) -> None:
    """Whatever made the target, the runner sends a credential over https (or http to loopback) to the origin of
    the endpoint's inferenceUri only."""
    [target] = one(outputs)
    output = target.output.model_copy(update={"inference_uri": "http://evil.example"})
    with httpx.Client() as client:
        [result] = runner(client, []).run(
            [smoke.EndpointTarget(target.endpoint, "inference", url, "key", output, target.key)]
        )

    assert (result.ok, result.status, result.attempts, result.problem) == (False, None, 0, problem)


# --- credentials that are not header values ----------------------------------------------------------------


@pytest.mark.parametrize(("key", "why"), NOT_HEADER_VALUES)
def test_a_key_that_is_not_a_header_value_is_refused_without_printing_it(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path, credential: Credential, key: str, why: str
) -> None:
    document = pointed_at(server)
    document["endpointKeys"]["chat-mistral-medium"]["primaryKey"] = key

    assert maas(capsys, "--outputs", str(outputs_file(tmp_path, document))) == (
        2,
        "",
        f"maas smoke: endpointKeys.chat-mistral-medium.primaryKey cannot be sent: it {why} (keys and tokens are "
        "printable ASCII without spaces)\n",
    )
    assert server.requests == []


@pytest.mark.parametrize(("token", "why"), NOT_HEADER_VALUES)
def test_a_token_that_is_not_a_header_value_fails_its_checks_only(
    capsys: pytest.CaptureFixture[str],
    server: ChatServer,
    tmp_path: Path,
    credential: Credential,
    token: str,
    why: str,
) -> None:
    credential.token = token

    code, report = smoke_json(capsys, outputs_file(tmp_path, pointed_at(server)))

    problem = (
        f"the Entra ID token for https://ml.azure.com/.default cannot be sent: it {why} (keys and tokens are "
        "printable ASCII without spaces)"
    )
    assert code == 1
    assert report["checks"] == [
        check("chat-ministral"),
        check("chat-mistral-medium"),
        failed("eval-phi4", None, problem, auth="entra", attempts=0, latencyMs="ms"),
    ]
    assert server.requests_to("eval-phi4") == []


# --- redaction: every field, every escaped form, before anything is cut ------------------------------------


@pytest.fixture
def odd(server: ChatServer) -> ChatServer:
    """chat-mistral-medium's key is :data:`ODD_KEY`."""
    server.endpoints["chat-mistral-medium"].keys = {ODD_KEY}
    return server


def odd_outputs(server: ChatServer) -> dict[str, Any]:
    document = pointed_at(server)
    document["endpointKeys"]["chat-mistral-medium"]["primaryKey"] = ODD_KEY
    return document


def test_an_echoed_credential_is_redacted_in_every_field_and_form(
    capsys: pytest.CaptureFixture[str], odd: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    echoes = " ".join(sorted(forms(ODD_KEY)))
    odd.script(
        "chat-mistral-medium",
        Scripted(
            body=completion(ODD_KEY, 6)
            | {"choices": [{"index": 0, "message": {"role": "assistant", "content": echoes}, "finish_reason": "stop"}]}
        ),
    )
    odd.script(  # another endpoint's key, echoed by the server both endpoints share
        "chat-ministral",
        Scripted(400, body={"error": {"message": f"keys {json.dumps(ODD_KEY)} {quote(KEYS['chat-ministral'])}"}}),
    )
    odd.script(
        "eval-phi4",
        Scripted(
            raw=[
                f"HTTP/1.0 401 {TOKEN}\r\nContent-Type: application/json\r\n\r\n".encode(),
                json.dumps({"message": f"token {TOKEN!r}"}).encode(),
            ]
        ),
    )
    path = outputs_file(tmp_path, odd_outputs(odd))

    code, report = smoke_json(capsys, path)

    assert code == 1
    assert report["checks"] == [
        failed("chat-ministral", 400, '400 Bad Request: the request was refused (the service says: keys "***" ***)'),
        check("chat-mistral-medium", model="***", reply=" ".join(["***"] * len(forms(ODD_KEY)))),
        failed(
            "eval-phi4",
            401,
            "401 ***: the endpoint rejected the Entra ID token (scope https://ml.azure.com/.default); check the "
            "endpoint's authMode (AAD) and that you signed in to its tenant (the service says: token '***')",
            auth="entra",
        ),
    ]


def test_a_service_message_is_redacted_before_it_is_cut(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path
) -> None:
    key = KEYS["chat-mistral-medium"]
    server.script("chat-mistral-medium", Scripted(400, body={"error": {"message": "x" * 150 + f" {key} " + "y" * 20}}))

    _, out, _ = maas(capsys, "--outputs", str(outputs_file(tmp_path, pointed_at(server))), "-e", "chat-mistral-medium")

    assert out.splitlines()[-2] == (
        "✗ chat-mistral-medium (inference): 400 Bad Request: the request was refused (the service says: "
        + "x" * 150
        + " *** "
        + "y" * 4
        + "…)"
    )
    assert key[:8] not in out


def test_a_credential_in_a_protocol_error_or_a_header_is_redacted(
    capsys: pytest.CaptureFixture[str], odd: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    odd.script("chat-mistral-medium", Scripted(raw=[f"HTTP/1.0 200 OK\r\nBearer {ODD_KEY}\r\n\r\n".encode()]))
    odd.script("chat-ministral", Scripted(headers={"Content-Type": ODD_KEY}, stream=sse(*chunks("m", 1), "[DONE]")))
    path = outputs_file(tmp_path, odd_outputs(odd))

    _, report = smoke_json(capsys, path, "-e", "chat-mistral-medium", "-e", "chat-ministral", "--stream")

    assert [(c["status"], c["problem"]) for c in report["checks"]] == [
        (200, "the streamed answer is not server-sent events: its Content-Type is '***', not text/event-stream"),
        (None, "cannot reach 127.0.0.1: illegal header line: bytearray(b'Bearer ***')"),
    ]


def test_redact() -> None:
    secret = "a+b/c\"d'e\\f"

    assert smoke.redact(f"x{secret}y", [secret]) == "x***y"
    assert smoke.redact(json.dumps({"k": secret}), [secret]) == '{"k": "***"}'
    assert smoke.redact(json.dumps(json.dumps(secret)), [secret]) == '"\\"***\\""'
    assert smoke.redact(quote(secret, safe="").lower(), [secret]) == "***"
    assert smoke.redact("a\\u002Bb\\/c\\u0022d\\u0027e\\\\f", [secret]) == "***"  # .NET's JSON escapes
    assert smoke.redact(html.escape(secret), [secret]) == "***"
    assert smoke.redact("A+B/C\"D'E\\F", [secret]) == "A+B/C\"D'E\\F"  # the secret's own case only
    assert smoke.redact("pk-1 pk-12", ["pk-1", "pk-12"]) == "*** ***"
    assert smoke.redact("text", ["", "x"]) == "te***t"


# --- one check's failure is that check's result ------------------------------------------------------------


def test_a_pathological_error_body_fails_its_check_only(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    server.script("chat-ministral", Scripted(400, body="[" * 100_000))

    code, report = smoke_json(capsys, outputs_file(tmp_path, pointed_at(server)))

    assert code == 1
    assert report["checks"] == [
        failed("chat-ministral", 400, "400 Bad Request: the request was refused"),
        check("chat-mistral-medium"),
        check("eval-phi4", auth="entra"),
    ]


def test_an_unexpected_error_fails_its_check_only(
    capsys: pytest.CaptureFixture[str],
    server: ChatServer,
    tmp_path: Path,
    credential: Credential,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    checked = smoke.check_completion

    def broken(body: bytes) -> tuple[str, str, smoke.Usage]:
        if b"boom" in body:
            raise RuntimeError(f"boom with {KEYS['chat-ministral']}\n" + "z" * 2000)
        return checked(body)

    monkeypatch.setattr(smoke, "check_completion", broken)
    server.script("chat-ministral", Scripted(body=completion("boom", 6)))

    code, report = smoke_json(capsys, outputs_file(tmp_path, pointed_at(server)))

    problem = "the check failed unexpectedly: RuntimeError: boom with *** " + "z" * 145 + "…"
    assert code == 1
    assert report["checks"] == [
        failed("chat-ministral", None, problem),
        check("chat-mistral-medium"),
        check("eval-phi4", auth="entra"),
    ]


# --- the deadline of a check, and bounded bodies -----------------------------------------------------------

HEAD = b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n"
SSE_HEAD = b"HTTP/1.0 200 OK\r\nContent-Type: text/event-stream\r\n\r\n"


def trickled(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


@pytest.mark.parametrize(
    ("answer", "stream", "status"),
    [
        pytest.param(Scripted(raw=trickled(HEAD + b"{}"), gap=0.05), False, None, id="head"),
        pytest.param(Scripted(raw=[HEAD, *trickled(json.dumps(GOOD).encode()[:60])], gap=0.05), False, 200, id="body"),
        pytest.param(
            Scripted(raw=[SSE_HEAD, *trickled("\n\n".join(sse(*STREAM)).encode()[:60])], gap=0.05),
            True,
            200,
            id="stream",
        ),
    ],
)
def test_a_trickling_server_holds_a_check_no_longer_than_the_timeout(
    server: ChatServer, outputs: Any, answer: Scripted, stream: bool, status: int | None
) -> None:
    """One byte every 50 ms: each read is quick, the answer never ends in time."""
    server.script("chat-mistral-medium", answer)
    with httpx.Client() as client:
        started = time.monotonic()
        [result] = runner(client, [], timeout=0.5).run(one(outputs), stream=stream)
        took = time.monotonic() - started

    assert (result.ok, result.status, result.problem) == (False, status, "no complete answer within 0.5 s (timeout)")
    assert 0.5 <= took < 0.75


def test_a_trickling_stream_from_the_command_line(
    capsys: pytest.CaptureFixture[str], server: ChatServer, tmp_path: Path
) -> None:
    server.script("chat-mistral-medium", Scripted(raw=[SSE_HEAD, *trickled(b"data: {" * 20)], gap=0.05))
    path = outputs_file(tmp_path, pointed_at(server))

    started = time.monotonic()
    _, report = smoke_json(capsys, path, "-e", "chat-mistral-medium", "--stream", "--timeout", "0.5")

    assert time.monotonic() - started < 0.75
    assert report["checks"] == [
        failed("chat-mistral-medium", 200, "no complete answer within 0.5 s (timeout)", stream=True)
    ]


def test_retries_end_at_the_deadline(server: ChatServer, outputs: Any) -> None:
    server.script("chat-mistral-medium", *[Scripted(503, {"Retry-After": "3"})] * 2)
    waits: list[float] = []
    with httpx.Client() as client:
        checks = smoke.Smoke(
            client, policy=smoke.RetryPolicy(timeout=5), sleep=waits.append, clock=lambda: time.monotonic() + sum(waits)
        )
        [result] = checks.run(one(outputs))

    assert waits == [3.0]
    assert (result.ok, result.status, result.attempts) == (False, 503, 2)
    assert result.problem == "503 Service Unavailable: waiting 3 s to retry would pass the check's 5 s timeout"


MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("answer", "stream", "status"),
    [
        pytest.param(Scripted(body="x" * (MIB + 1)), False, 200, id="plain"),
        pytest.param(Scripted(500, body="x" * (2 * MIB)), False, 500, id="error"),
        pytest.param(Scripted(stream=["data: " + "x" * (2 * MIB)]), True, 200, id="streamed"),
        pytest.param(Scripted(raw=[HEAD, b"{" * (2 * MIB)]), False, 200, id="close-delimited"),
    ],
)
def test_a_body_beyond_a_mebibyte_fails_the_check(
    server: ChatServer, outputs: Any, answer: Scripted, stream: bool, status: int
) -> None:
    server.script("chat-mistral-medium", answer)
    waits: list[float] = []
    with httpx.Client() as client:
        [result] = runner(client, waits).run(one(outputs), stream=stream)

    assert (result.ok, result.status, result.attempts, waits) == (False, status, 1, [])
    assert result.problem == "the answer is larger than 1 MiB, the most this reads"


@pytest.mark.parametrize("seconds", [0.0004, 0.012, 9.5, 600.0])
def test_the_table_layout_does_not_depend_on_latency(seconds: float) -> None:
    """The latency column is as wide as the longest check (--timeout at most 600 s), whatever the checks took."""
    from rich.console import Console

    from infra.cli.render import smoke as render

    console = Console(file=io.StringIO(), width=120, force_terminal=False)
    result = smoke.Result("chat-ministral", "inference", "key", False, True, 200, 1, latency=seconds, reply="pong")
    render.print_smoke([result], console, "stack dev")
    lines = [line.rstrip() for line in console.file.getvalue().splitlines()]  # type: ignore[attr-defined]
    assert lines[1] == " Endpoint         Route       Auth   Status     Latency   Tokens   Reply"
    assert lines[3] == f" chat-ministral   inference   key    200 ok   {seconds * 1000:>6.0f} ms        -   pong"


# --- Foundry deployments: the openai/v1 route ---------------------------------------------------------------

ML_SCOPE = "https://ml.azure.com/.default"
AI_SCOPE = "https://ai.azure.com/.default"
OLDER_SCOPE = "https://cognitiveservices.azure.com/.default"
FOUNDRY_STACK = {
    "azure-native:location": "eastus2",
    **stack(
        location="eastus2",
        resourceGroup={"name": "rg-maas-foundry"},
        foundries=[
            {
                "name": "fdy-chat",
                "localAuth": True,
                "projects": [{"name": "proj-chat", "description": "Chat assistants"}],
                "contentFilters": [{"name": "strict", "severityThreshold": "Low"}],
                "deployments": [
                    {
                        "name": "mistral-medium",
                        "model": "mistral-medium-2505",
                        "contentFilter": "strict",
                        "capacity": 50,
                    },
                    {"name": "ministral", "model": "ministral-3b"},
                ],
            },
            {
                "name": "fdy-docs",
                "projects": [{"name": "proj-docs"}],
                "deployments": [
                    {"name": "document-ai", "model": "mistral-document-ai-2512"},
                    {"name": "mistral-large-3", "model": "mistral-large-3", "capacity": 20},
                ],
            },
        ],
    ),
}
"""The stack whose outputs tests/data/stack-output-foundry.json records: fdy-chat takes keys (local auth on), fdy-docs
takes Entra ID tokens only and deploys an OCR model besides a chat model."""
SKIPPED_OCR = (
    "maas smoke: skipped Foundry deployment 'fdy-docs/document-ai': Mistral Document AI 25.12 "
    "(Mistral AI/mistral-document-ai-2512) answers the OCR / document AI API, not chat completions\n"
)
FOUNDRY_ROUTE = "/openai/v1/chat/completions"


def foundry_accounts() -> dict[str, Account]:
    """The Foundry stack's accounts as the local server serves them: deployment name to the model it answers with."""
    return {
        "fdy-chat": Account(
            {"ministral": "Ministral-3B", "mistral-medium": "mistral-medium-2505"},
            keys={FOUNDRY_KEY, "key2-fdy-chat"},
            tokens={TOKEN},
        ),
        "fdy-docs": Account(
            {"document-ai": "mistral-document-ai-2512", "mistral-large-3": "Mistral-Large-3"},
            tokens={TOKEN},
            local_auth=False,
        ),
    }


@pytest.fixture
def foundry() -> Iterator[ChatServer]:
    """The local server with the dev endpoints and the Foundry stack's accounts."""
    with ChatServer(
        dev_endpoints(), rejected_tokens=frozenset({NO_ROLE_TOKEN}), accounts=foundry_accounts()
    ) as running:
        yield running


def foundry_recorded() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(FOUNDRY_RECORDED.read_text(encoding="utf-8"))
    return document


def foundry_pointed_at(
    server: ChatServer, document: dict[str, Any] | None = None, host: Callable[[str], str] = lambda _: "127.0.0.1"
) -> dict[str, Any]:
    """The recorded Foundry outputs with every deployment's URLs on the local server, under ``host(account)``."""
    document = document or foundry_recorded()
    for deployment in document["foundryDeployments"].values():
        base = server.foundry_base(deployment["foundry"], host(deployment["foundry"]))
        deployment["baseUrl"] = base
        if deployment["api"] == "chat":
            deployment["chatCompletionsUrl"] = f"{base}/chat/completions"
    return document


def mixed(server: ChatServer) -> dict[str, Any]:
    """One stack with both channels: the dev stack's endpoints and the Foundry stack's deployments."""
    document = pointed_at(server)
    foundry = foundry_pointed_at(server)
    document.update({key: foundry[key] for key in ("foundries", "foundryDeployments", "foundryKeys")})
    return document


def foundry_check(name: str, auth: str = "key", **fields: Any) -> dict[str, Any]:
    """One ``checks`` entry of a Foundry deployment; a passed check unless ``fields`` say otherwise."""
    account, _, deployment = name.partition("/")
    passed = check("chat-ministral", "openai", auth) | {
        "endpoint": name,
        "model": foundry_accounts()[account].deployments[deployment],
    }
    if fields.get("ok") is False:
        passed.update(model=None, usage=None, reply=None)
    return passed | fields


def headers_of(request: Any) -> dict[str, str]:
    return {name.lower(): value for name, value in request.headers.items()}


def test_the_recorded_foundry_document_is_what_a_foundry_stack_exports() -> None:
    run: Run = run_program(FOUNDRY_STACK, stack="foundry")

    assert foundry_recorded() == _plain(run.outputs)


def test_parsed_foundry_outputs_hold_keys_as_secrets() -> None:
    outputs = parse(FOUNDRY_RECORDED.read_text(encoding="utf-8"), "recorded")

    assert list(outputs.foundry_deployments) == [
        "fdy-chat/ministral",
        "fdy-chat/mistral-medium",
        "fdy-docs/document-ai",
        "fdy-docs/mistral-large-3",
    ]
    assert outputs.endpoints == {}
    assert FOUNDRY_KEY not in repr(outputs)
    key = outputs.foundry_key_of("fdy-chat")
    assert key is not None
    assert key.get_secret_value() == FOUNDRY_KEY
    assert outputs.foundry_key_of("fdy-docs") is None
    older = {name: value for name, value in recorded().items() if not name.startswith("foundr")}
    assert parse(json.dumps(older), "older").foundry_deployments == {}  # a stack from before the Foundry channel


def test_every_foundry_deployment_answers_on_the_openai_v1_route(
    capsys: pytest.CaptureFixture[str], foundry: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    code, report = smoke_json(
        capsys, outputs_file(tmp_path, foundry_pointed_at(foundry)), "--stack", "acme/foundry", stderr=SKIPPED_OCR
    )

    assert code == 0
    assert report == {
        "schemaVersion": 1,
        "stack": "acme/foundry",
        "passed": 3,
        "failed": 0,
        "checks": [
            foundry_check("fdy-chat/ministral"),
            foundry_check("fdy-chat/mistral-medium"),
            foundry_check("fdy-docs/mistral-large-3", auth="entra"),
        ],
    }
    sent = sorted(
        (r.endpoint, r.path, r.query, headers_of(r).get("api-key"), headers_of(r).get("authorization"))
        for r in foundry.requests
    )
    assert sent == [
        ("fdy-chat/ministral", FOUNDRY_ROUTE, "", FOUNDRY_KEY, None),
        ("fdy-chat/mistral-medium", FOUNDRY_ROUTE, "", FOUNDRY_KEY, None),
        ("fdy-docs/mistral-large-3", FOUNDRY_ROUTE, "", None, f"Bearer {TOKEN}"),
    ]
    assert {r.endpoint: r.body for r in foundry.requests} == {
        name: {"model": name.partition("/")[2], **BODY}
        for name in ("fdy-chat/ministral", "fdy-chat/mistral-medium", "fdy-docs/mistral-large-3")
    }
    assert credential.scopes == [(AI_SCOPE,)]


def test_a_foundry_deployment_streamed(capsys: pytest.CaptureFixture[str], foundry: ChatServer, tmp_path: Path) -> None:
    path = outputs_file(tmp_path, foundry_pointed_at(foundry))

    code, report = smoke_json(capsys, path, "-e", "fdy-chat/mistral-medium", "--stream")

    assert (code, report["checks"]) == (0, [foundry_check("fdy-chat/mistral-medium", stream=True)])
    [request] = foundry.requests
    assert request.body == {"model": "mistral-medium", **BODY, "stream": True}
    assert headers_of(request)["accept"] == "text/event-stream"


def test_entra_id_for_a_foundry_resource_that_takes_keys(
    capsys: pytest.CaptureFixture[str], foundry: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    path = outputs_file(tmp_path, foundry_pointed_at(foundry))

    code, report = smoke_json(capsys, path, "--auth", "entra", "-e", "fdy-chat/ministral")

    assert (code, report["checks"]) == (0, [foundry_check("fdy-chat/ministral", auth="entra")])
    [request] = foundry.requests
    assert (headers_of(request).get("api-key"), headers_of(request)["authorization"]) == (None, f"Bearer {TOKEN}")
    assert credential.scopes == [(AI_SCOPE,)]


def test_both_channels_in_one_stack_get_one_token_per_scope(
    capsys: pytest.CaptureFixture[str], foundry: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    code, report = smoke_json(capsys, outputs_file(tmp_path, mixed(foundry)), stderr=SKIPPED_OCR)

    assert code == 0
    assert [(c["endpoint"], c["route"], c["auth"], c["ok"]) for c in report["checks"]] == [
        ("chat-ministral", "inference", "key", True),
        ("chat-mistral-medium", "inference", "key", True),
        ("eval-phi4", "inference", "entra", True),
        ("fdy-chat/ministral", "openai", "key", True),
        ("fdy-chat/mistral-medium", "openai", "key", True),
        ("fdy-docs/mistral-large-3", "openai", "entra", True),
    ]
    assert credential.scopes == [(ML_SCOPE,), (AI_SCOPE,)]


@pytest.mark.parametrize(
    ("args", "scopes"),
    [
        pytest.param([], [ML_SCOPE, AI_SCOPE], id="each channel's default"),
        pytest.param(["--token-scope", f"foundry={OLDER_SCOPE}"], [ML_SCOPE, OLDER_SCOPE], id="one channel"),
        pytest.param(["--token-scope", OLDER_SCOPE], [OLDER_SCOPE], id="every channel: one token"),
        pytest.param(
            ["--token-scope", OLDER_SCOPE, "--token-scope", f"serverless={ML_SCOPE}"],
            [ML_SCOPE, OLDER_SCOPE],
            id="a later value wins",
        ),
    ],
)
def test_token_scopes_per_channel(
    capsys: pytest.CaptureFixture[str],
    foundry: ChatServer,
    tmp_path: Path,
    credential: Credential,
    args: list[str],
    scopes: list[str],
) -> None:
    path = outputs_file(tmp_path, mixed(foundry))

    code, report = smoke_json(capsys, path, "-e", "eval-phi4", "-e", "fdy-docs/mistral-large-3", *args)

    assert (code, report["passed"]) == (0, 2)
    assert credential.scopes == [(scope,) for scope in scopes]


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("fondry=https://ai.azure.com/.default", "'fondry' is not a channel: use serverless or foundry"),
        ("foundry=", "'foundry=' is not a scope: [CHANNEL=]SCOPE, the scope without spaces"),
        ("", "'' is not a scope: [CHANNEL=]SCOPE, the scope without spaces"),
        (
            "https://ai.azure.com/.default x",
            "'https://ai.azure.com/.default x' is not a scope: [CHANNEL=]SCOPE, the scope without spaces",
        ),
    ],
)
def test_token_scope_takes_a_scope_for_every_channel_or_for_one(
    capsys: pytest.CaptureFixture[str], value: str, problem: str
) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli.main(["smoke", "--token-scope", value])

    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"maas smoke: error: argument --token-scope: {problem}"


def test_the_text_report_of_both_channels(
    capsys: pytest.CaptureFixture[str], foundry: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    """With a signed-in identity that has no role on proj-eval nor on fdy-docs."""
    credential.token = NO_ROLE_TOKEN

    code, out, err = maas(capsys, "--outputs", str(outputs_file(tmp_path, mixed(foundry))), "--stack", "dev")

    assert (code, err) == (1, SKIPPED_OCR)
    assert [without_latency(line).rstrip() for line in out.splitlines()] == [
        "",
        " Endpoint                   Route       Auth       Status         Latency      Tokens   Reply",
        " " + "━" * 92,
        " chat-ministral             inference   key        200 ok            N ms   6 + 2 = 8   pong",
        " chat-mistral-medium        inference   key        200 ok            N ms   6 + 2 = 8   pong",
        " eval-phi4                  inference   Entra ID   403 failed        N ms           -   -",
        " fdy-chat/ministral         openai/v1   key        200 ok            N ms   6 + 2 = 8   pong",
        " fdy-chat/mistral-medium    openai/v1   key        200 ok            N ms   6 + 2 = 8   pong",
        " fdy-docs/mistral-large-3   openai/v1   Entra ID   403 failed        N ms           -   -",
        "",
        "✗ eval-phi4 (inference): 403 Forbidden: the signed-in identity has no role allowing inference on workspace "
        "'proj-eval': grant Azure AI Developer (`role: developer` in azure-maas:access) (the service says: Principal "
        "does not have access to the API/Operation.)",
        "✗ fdy-docs/mistral-large-3 (openai/v1): 403 Forbidden: the signed-in identity has no role allowing inference "
        "on Foundry resource 'fdy-docs': grant Foundry User (`role: developer`, `scope: fdy-docs` in azure-maas:access) "
        "(the service says: The principal lacks the required data action `Microsoft.CognitiveServices/accounts/OpenAI/"
        "deployments/chat/completions/action` to perform `POST /openai/deploym…)",
        "4 of 6 checks passed on stack dev",
    ]


# --- Foundry: failures and their diagnoses ------------------------------------------------------------------


def retire(monkeypatch: pytest.MonkeyPatch, key: str, replacement: str | None) -> None:
    """The catalog as if ``key`` had retired on 2026-10-01 (before the tests' today) in favour of ``replacement``."""
    known = catalog_module.load()
    model = known.models[key]
    lifecycle = model.lifecycle.model_copy(
        update={"stage": "Retired", "retirement_date": dt.date(2026, 10, 1), "replacement": replacement}
    )
    models = {**known.models, key: model.model_copy(update={"lifecycle": lifecycle})}
    patched = known.model_copy(update={"models": models})
    monkeypatch.setattr(catalog_module, "load", lambda *_, **__: patched)


GONE = Scripted(410, body={"error": {"code": "ModelRetired", "message": "The model has been retired."}})


def _stale_key(server: ChatServer, document: dict[str, Any], credential: Credential, mp: pytest.MonkeyPatch) -> None:
    document["foundryKeys"]["fdy-chat"]["key1"] = STALE_KEY


def _other_tenant(server: ChatServer, document: dict[str, Any], credential: Credential, mp: pytest.MonkeyPatch) -> None:
    credential.token = "token-of-another-tenant"


def _no_role(server: ChatServer, document: dict[str, Any], credential: Credential, mp: pytest.MonkeyPatch) -> None:
    credential.token = NO_ROLE_TOKEN


def _keys_off(server: ChatServer, document: dict[str, Any], credential: Credential, mp: pytest.MonkeyPatch) -> None:
    server.accounts["fdy-chat"].local_auth = False


def _deleted(server: ChatServer, document: dict[str, Any], credential: Credential, mp: pytest.MonkeyPatch) -> None:
    del server.accounts["fdy-chat"].deployments["ministral"]


def _retired(server: ChatServer, document: dict[str, Any], credential: Credential, mp: pytest.MonkeyPatch) -> None:
    server.script("fdy-chat/ministral", GONE)
    retire(mp, "ministral-3b", "mistral-small")  # itself retired: its replacement mistral-small-2503 is named


def _retired_deleted(
    server: ChatServer, document: dict[str, Any], credential: Credential, mp: pytest.MonkeyPatch
) -> None:
    del server.accounts["fdy-chat"].deployments["ministral"]
    retire(mp, "ministral-3b", "mistral-small-2503")


def _retired_off_foundry(
    server: ChatServer, document: dict[str, Any], credential: Credential, mp: pytest.MonkeyPatch
) -> None:
    server.script("fdy-chat/ministral", GONE)
    retire(mp, "ministral-3b", "phi-4")


def _retired_unannounced(
    server: ChatServer, document: dict[str, Any], credential: Credential, mp: pytest.MonkeyPatch
) -> None:
    server.script("fdy-chat/ministral", GONE)
    retire(mp, "ministral-3b", None)


def _gone(server: ChatServer, document: dict[str, Any], credential: Credential, mp: pytest.MonkeyPatch) -> None:
    server.script("fdy-chat/ministral", GONE)


def _throttled(server: ChatServer, document: dict[str, Any], credential: Credential, mp: pytest.MonkeyPatch) -> None:
    server.script("fdy-chat/mistral-medium", *[Scripted(429, {"retry-after-ms": "0"})] * 2)


def _provisioned(server: ChatServer, document: dict[str, Any], credential: Credential, mp: pytest.MonkeyPatch) -> None:
    document["foundryDeployments"]["fdy-chat/mistral-medium"].update(sku="GlobalProvisionedManaged", capacity=15)
    server.script("fdy-chat/mistral-medium", *[Scripted(429, {"Retry-After": "0"})] * 2)


def _busy(server: ChatServer, document: dict[str, Any], credential: Credential, mp: pytest.MonkeyPatch) -> None:
    server.script("fdy-chat/mistral-medium", *[Scripted(503, {"Retry-After": "0"}, {"error": {"message": "Busy"}})] * 2)


Setup = Callable[[ChatServer, dict[str, Any], Credential, pytest.MonkeyPatch], None]


@pytest.mark.parametrize(
    ("setup", "name", "args", "status", "problem"),
    [
        pytest.param(
            _stale_key,
            "fdy-chat/ministral",
            [],
            401,
            (
                "401 Unauthorized: Foundry resource 'fdy-chat' rejected the key from the stack outputs; it "
                "changed since the last `pulumi up` (run `pulumi refresh` and `pulumi up`, then smoke again) "
                "(the service says: Access denied due to invalid subscription key or wrong API endpoint. Make "
                "sure to provide a valid key for an active subscription and use a correct regional API…)"
            ),
            id="401 key",
        ),
        pytest.param(
            _other_tenant,
            "fdy-docs/mistral-large-3",
            [],
            401,
            (
                "401 Unauthorized: Foundry resource 'fdy-docs' rejected the Entra ID token (scope "
                "https://ai.azure.com/.default); sign in to its tenant, or try --token-scope "
                "foundry=https://cognitiveservices.azure.com/.default (the service says: Unauthorized. Access "
                "token is missing, invalid, audience is incorrect, or have expired.)"
            ),
            id="401 token",
        ),
        pytest.param(
            _other_tenant,
            "fdy-docs/mistral-large-3",
            ["--token-scope", f"foundry={OLDER_SCOPE}"],
            401,
            (
                "401 Unauthorized: Foundry resource 'fdy-docs' rejected the Entra ID token (scope "
                "https://cognitiveservices.azure.com/.default); sign in to its tenant, or try --token-scope "
                "foundry=https://ai.azure.com/.default (the service says: Unauthorized. Access token is "
                "missing, invalid, audience is incorrect, or have expired.)"
            ),
            id="401 token of the older scope",
        ),
        pytest.param(
            _no_role,
            "fdy-docs/mistral-large-3",
            [],
            403,
            (
                "403 Forbidden: the signed-in identity has no role allowing inference on Foundry resource "
                "'fdy-docs': grant Foundry User (`role: developer`, `scope: fdy-docs` in azure-maas:access) "
                "(the service says: The principal lacks the required data action "
                "`Microsoft.CognitiveServices/accounts/OpenAI/deployments/chat/completions/action` to perform "
                "`POST /openai/deploym…)"
            ),
            id="403 token",
        ),
        pytest.param(
            _keys_off,
            "fdy-chat/ministral",
            [],
            403,
            (
                "403 Forbidden: Foundry resource 'fdy-chat' refused the key: local auth (keys) was turned off "
                "since the last `pulumi up` (run `pulumi refresh`; --auth entra smokes it with a token) (the "
                "service says: Key based authentication is disabled for this resource.)"
            ),
            id="403 key",
        ),
        pytest.param(
            _deleted,
            "fdy-chat/ministral",
            [],
            404,
            (
                "404 Not Found: Foundry resource 'fdy-chat' has no deployment named 'ministral' (sent as "
                "`model`): deleted or renamed outside Pulumi, or the outputs are stale (run `pulumi refresh`) "
                "(the service says: The API deployment for this resource does not exist. If you created the "
                "deployment within the last 5 minutes, please wait a moment and try again.)"
            ),
            id="404",
        ),
        pytest.param(
            _retired_deleted,
            "fdy-chat/ministral",
            [],
            404,
            (
                "404 Not Found: the model is retired: Ministral-3B (Mistral AI/Ministral-3B) was retired on "
                "2026-10-01; deploy 'mistral-small-2503' (Mistral AI/mistral-small-2503 version 1) instead "
                "(the service says: The API deployment for this resource does not exist. If you created the "
                "deployment within the last 5 minutes, please wait a moment and try again.)"
            ),
            id="404 retired",
        ),
        pytest.param(
            _retired,
            "fdy-chat/ministral",
            [],
            410,
            (
                "410 Gone: the model is retired: Ministral-3B (Mistral AI/Ministral-3B) was retired on "
                "2026-10-01; deploy 'mistral-small-2503' (Mistral AI/mistral-small-2503 version 1) instead "
                "(the service says: The model has been retired.)"
            ),
            id="410 living replacement",
        ),
        pytest.param(
            _retired_off_foundry,
            "fdy-chat/ministral",
            [],
            410,
            (
                "410 Gone: the model is retired: Ministral-3B (Mistral AI/Ministral-3B) was retired on "
                "2026-10-01; its replacement 'phi-4' (Phi-4) is offered only as: serverless API "
                "('serverless') (the service says: The model has been retired.)"
            ),
            id="410 replacement off Foundry",
        ),
        pytest.param(
            _retired_unannounced,
            "fdy-chat/ministral",
            [],
            410,
            (
                "410 Gone: the model is retired: Ministral-3B (Mistral AI/Ministral-3B) was retired on "
                "2026-10-01; no replacement is announced (the service says: The model has been retired.)"
            ),
            id="410 no replacement",
        ),
        pytest.param(
            _gone,
            "fdy-chat/ministral",
            [],
            410,
            (
                "410 Gone: the model of deployment 'ministral' (Mistral AI/Ministral-3B version 1) is "
                "retired, though the catalog does not say so yet: deploy a living one (`maas models --channel "
                "foundry`; `maas catalog sync` updates the catalog) (the service says: The model has been "
                "retired.)"
            ),
            id="410 unknown to the catalog",
        ),
        pytest.param(
            _throttled,
            "fdy-chat/mistral-medium",
            ["--retries", "1"],
            429,
            (
                "429 Too Many Requests: still failing after 2 attempts (the deployment's capacity: 50 "
                "thousand tokens per minute, GlobalStandard; raise its `capacity` in azure-maas:foundries)"
            ),
            id="429",
        ),
        pytest.param(
            _provisioned,
            "fdy-chat/mistral-medium",
            ["--retries", "1"],
            429,
            (
                "429 Too Many Requests: still failing after 2 attempts (the deployment's capacity: 15 "
                "provisioned throughput units, GlobalProvisionedManaged; raise its `capacity` in "
                "azure-maas:foundries)"
            ),
            id="429 provisioned",
        ),
        pytest.param(
            _busy,
            "fdy-chat/mistral-medium",
            ["--retries", "1"],
            503,
            ("503 Service Unavailable: still failing after 2 attempts (Busy)"),
            id="503",
        ),
    ],
)
def test_a_foundry_failure_is_diagnosed_in_one_line(
    capsys: pytest.CaptureFixture[str],
    foundry: ChatServer,
    tmp_path: Path,
    credential: Credential,
    monkeypatch: pytest.MonkeyPatch,
    setup: Setup,
    name: str,
    args: list[str],
    status: int,
    problem: str,
) -> None:
    document = foundry_pointed_at(foundry)
    setup(foundry, document, credential, monkeypatch)

    code, report = smoke_json(capsys, outputs_file(tmp_path, document), "-e", name, *args)

    [result] = report["checks"]
    assert (code, result["ok"], result["status"]) == (1, False, status)
    assert result["problem"] == problem


# --- Foundry: selection, keys, and outputs that are not what the program exports ---------------------------

ALL_NAMES = (
    "endpoints: chat-ministral, chat-mistral-medium, eval-phi4; Foundry deployments: fdy-chat/ministral, "
    "fdy-chat/mistral-medium, fdy-docs/document-ai, fdy-docs/mistral-large-3"
)


def test_a_foundry_deployment_is_selected_as_account_slash_deployment(
    capsys: pytest.CaptureFixture[str], foundry: ChatServer, tmp_path: Path
) -> None:
    path = outputs_file(tmp_path, mixed(foundry))

    code, report = smoke_json(capsys, path, "--endpoint", "fdy-chat/mistral-medium", "-e", "chat-ministral")

    assert code == 0
    assert report["checks"] == [check("chat-ministral"), foundry_check("fdy-chat/mistral-medium")]
    assert sorted(r.endpoint for r in foundry.requests) == ["chat-ministral", "fdy-chat/mistral-medium"]


def test_a_route_applies_to_serverless_endpoints_only(
    capsys: pytest.CaptureFixture[str], foundry: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    """``--route native`` checks each selected endpoint's native route; a Foundry deployment, its one route."""
    path = outputs_file(tmp_path, mixed(foundry))

    code, report = smoke_json(capsys, path, "--route", "native", "-e", "chat-ministral", "-e", "fdy-chat/ministral")

    assert code == 0
    assert report["checks"] == [check("chat-ministral", "native"), foundry_check("fdy-chat/ministral")]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        pytest.param(
            ["-e", "fdy-chat/nope", "-e", "fdy-chat", "-e", "ministral", "-e", "fdy-chat/ministral"],
            f"--endpoint 'fdy-chat/nope', 'fdy-chat', 'ministral': not an endpoint of the stack; {ALL_NAMES}",
            id="unknown names",
        ),
        pytest.param(
            ["-e", "fdy-docs/document-ai"],
            "--endpoint 'fdy-docs/document-ai': Mistral Document AI 25.12 (Mistral AI/mistral-document-ai-2512) "
            "answers the OCR / document AI API, not chat completions; maas smoke sends chat requests only",
            id="an OCR deployment",
        ),
        pytest.param(
            ["--route", "native", "--route", "inference", "--route", "native", "-e", "fdy-chat/ministral"],
            "--route native, inference: chooses routes of serverless endpoints, and none is selected; a Foundry "
            "deployment has one route, openai/v1 ({baseUrl}/chat/completions): leave --route out",
            id="a route without serverless endpoints",
        ),
        pytest.param(
            ["--auth", "key", "-e", "fdy-docs/mistral-large-3"],
            "--auth key: Foundry deployment 'fdy-docs/mistral-large-3' takes Entra ID tokens only (authMode AAD: "
            "keys are off on Foundry resource 'fdy-docs')",
            id="a key for an AAD resource",
        ),
    ],
)
def test_an_invalid_foundry_selection_exits_2_before_any_request(
    capsys: pytest.CaptureFixture[str], foundry: ChatServer, tmp_path: Path, args: list[str], message: str
) -> None:
    path = outputs_file(tmp_path, mixed(foundry))

    assert maas(capsys, "--outputs", str(path), *args) == (2, "", f"maas smoke: {message}\n")
    assert foundry.requests == []


def test_a_route_with_a_foundry_only_stack_exits_2(
    capsys: pytest.CaptureFixture[str], foundry: ChatServer, tmp_path: Path
) -> None:
    path = outputs_file(tmp_path, foundry_pointed_at(foundry))

    code, out, err = maas(capsys, "--outputs", str(path), "--route", "inference")

    assert (code, out) == (2, "")
    assert err.startswith("maas smoke: --route inference: chooses routes of serverless endpoints, and none is selected")


def test_hidden_foundry_keys_are_an_error_only_for_deployments_that_would_use_one(
    capsys: pytest.CaptureFixture[str], foundry: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    document = foundry_pointed_at(foundry)
    document["foundryKeys"] = "[secret]"  # pulumi stack output --json without --show-secrets
    path = outputs_file(tmp_path, document)

    assert maas(capsys, "--outputs", str(path)) == (
        2,
        "",
        "maas smoke: Foundry deployment 'fdy-chat/ministral' needs its resource's key, and foundryKeys is hidden: "
        "read the outputs with `pulumi stack output --json --show-secrets`, or pass --auth entra\n",
    )
    code, report = smoke_json(
        capsys, path, "-e", "fdy-docs/mistral-large-3", "-e", "fdy-chat/ministral", "--auth", "entra"
    )
    assert (code, report["passed"]) == (0, 2)
    assert len(foundry.requests) == 2
    assert all(headers_of(r).get("api-key") is None for r in foundry.requests)


def test_without_foundry_keys_auto_takes_a_token_and_key_exits_2(
    capsys: pytest.CaptureFixture[str], foundry: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    document = foundry_pointed_at(foundry)
    del document["foundryKeys"]  # outputs that hold no keys (or a program that exported none)
    path = outputs_file(tmp_path, document)

    code, report = smoke_json(capsys, path, "-e", "fdy-chat/ministral")
    assert (code, report["checks"]) == (0, [foundry_check("fdy-chat/ministral", auth="entra")])
    assert maas(capsys, "--outputs", str(path), "-e", "fdy-chat/ministral", "--auth", "key") == (
        2,
        "",
        "maas smoke: foundryKeys has no key for Foundry resource 'fdy-chat' (authMode KeyAndAAD): run `pulumi up`\n",
    )


@pytest.mark.parametrize(("key", "why"), NOT_HEADER_VALUES)
def test_a_foundry_key_that_is_not_a_header_value_is_refused_without_printing_it(
    capsys: pytest.CaptureFixture[str], foundry: ChatServer, tmp_path: Path, key: str, why: str
) -> None:
    document = foundry_pointed_at(foundry)
    document["foundryKeys"]["fdy-chat"]["key1"] = key

    assert maas(capsys, "--outputs", str(outputs_file(tmp_path, document)), "-e", "fdy-chat/ministral") == (
        2,
        "",
        f"maas smoke: foundryKeys.fdy-chat.key1 cannot be sent: it {why} (keys and tokens are printable ASCII "
        "without spaces)\n",
    )
    assert foundry.requests == []


def _deployment(document: dict[str, Any], **fields: Any) -> dict[str, Any]:
    document["foundryDeployments"]["fdy-chat/ministral"].update(fields)
    return document


def _renamed(document: dict[str, Any]) -> dict[str, Any]:
    deployments = document["foundryDeployments"]
    deployments["fdy-chat/other"] = deployments.pop("fdy-chat/ministral")
    return document


def _colliding(document: dict[str, Any]) -> dict[str, Any]:
    document["endpoints"] = {"fdy-chat/ministral": recorded()["endpoints"]["eval-phi4"]}
    return document


@pytest.mark.parametrize(
    ("tamper", "message"),
    [
        pytest.param(
            _renamed,
            "foundryDeployments.fdy-chat/other: the key is not `<foundry>/<deployment>` of its entry "
            "(fdy-chat/ministral)",
            id="a key that is not its entry's name",
        ),
        pytest.param(
            _colliding,
            "foundryDeployments.fdy-chat/ministral: the name of a serverless endpoint too "
            "(endpoints.fdy-chat/ministral)",
            id="a name of both channels",
        ),
        pytest.param(
            lambda d: _deployment(d, deployment="ministral\n\x1b[31mred"),
            "foundryDeployments.fdy-chat/ministral.deployment: String should match pattern "
            "'^[A-Za-z0-9][A-Za-z0-9._-]*$'",
            id="a name with a line break and a terminal escape",
        ),
        pytest.param(
            lambda d: {
                **d,
                "foundryDeployments": {"fdy-chat/x\n\x1b[2J": d["foundryDeployments"]["fdy-chat/ministral"]},
            },
            "foundryDeployments.'fdy-chat/x\\n\\x1b[2J': the key is not `<foundry>/<deployment>` of its entry "
            "(fdy-chat/ministral)",
            id="a key with a line break and a terminal escape",
        ),
        pytest.param(
            lambda d: {**d, "endpoints": {"eval\nphi4": {**recorded()["endpoints"]["eval-phi4"], "authMode": "Token"}}},
            "endpoints.'eval\\nphi4'.authMode: Input should be 'Key', 'AAD' or 'KeyAndAAD'",
            id="an endpoint name with a line break",
        ),
        pytest.param(
            lambda d: _deployment(d, authMode="Key"),
            "foundryDeployments.fdy-chat/ministral.authMode: Input should be 'AAD' or 'KeyAndAAD'",
            id="a serverless auth mode",
        ),
        pytest.param(
            lambda d: _deployment(d, capacity="50", api="completions"),
            "foundryDeployments.fdy-chat/ministral.api: Input should be 'chat' or 'ocr'; "
            "foundryDeployments.fdy-chat/ministral.capacity: Input should be a valid integer",
            id="wrong types",
        ),
        pytest.param(
            lambda d: {**d, "foundryDeployments": [d["foundryDeployments"]]},
            "foundryDeployments: Input should be a valid dictionary",
            id="not a map",
        ),
        pytest.param(
            lambda d: {**d, "foundryKeys": "hidden"},
            "foundryKeys: Input should be a valid dictionary; foundryKeys: Input should be '[secret]'",
            id="keys neither a map nor hidden",
        ),
        pytest.param(
            lambda d: {**d, "foundryKeys": {"fdy-chat": {"key1": 7, "primaryKey": "x"}}},
            "foundryKeys.fdy-chat.key1: Input should be a valid string; foundryKeys.fdy-chat.key2: Field required",
            id="keys that are not key1 and key2",
        ),
    ],
)
def test_foundry_outputs_that_are_not_what_the_program_exports_exit_2(
    capsys: pytest.CaptureFixture[str],
    foundry: ChatServer,
    tmp_path: Path,
    tamper: Callable[[dict[str, Any]], dict[str, Any]],
    message: str,
) -> None:
    path = outputs_file(tmp_path, tamper(foundry_pointed_at(foundry)))

    assert maas(capsys, "--outputs", str(path)) == (2, "", f"maas smoke: {path}: {message}\n")
    assert foundry.requests == []


# --- Foundry: where credentials may go -----------------------------------------------------------------------

FOUNDRY_HOSTS = "*.openai.azure.com, *.services.ai.azure.com"


def foundry_host(account: str) -> str:
    """fdy-chat under openai.azure.com, fdy-docs under services.ai.azure.com: both are a Foundry resource's hosts."""
    return f"{account}.openai.azure.com" if account == "fdy-chat" else f"{account}.services.ai.azure.com"


def test_a_foundry_host_over_https_needs_no_option(
    capsys: pytest.CaptureFixture[str], azure: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    path = outputs_file(tmp_path, foundry_pointed_at(azure, host=foundry_host))

    code, report = smoke_json(capsys, path, allow=False, stderr=SKIPPED_OCR)

    assert (code, report["passed"]) == (0, 3)
    assert sorted((r.endpoint, r.path, r.headers["Host"]) for r in azure.requests) == [
        ("fdy-chat/ministral", FOUNDRY_ROUTE, f"fdy-chat.openai.azure.com:{azure.port}"),
        ("fdy-chat/mistral-medium", FOUNDRY_ROUTE, f"fdy-chat.openai.azure.com:{azure.port}"),
        ("fdy-docs/mistral-large-3", FOUNDRY_ROUTE, f"fdy-docs.services.ai.azure.com:{azure.port}"),
    ]


def _moved_deployment(server: ChatServer, key: str, url: str) -> dict[str, Any]:
    return _deployment(foundry_pointed_at(server), **{key: url})


@pytest.mark.parametrize(
    ("move", "args", "message"),
    [
        pytest.param(
            lambda server, other: foundry_pointed_at(server),
            [],
            f"foundryDeployments.fdy-chat/ministral.baseUrl: 127.0.0.1 is not an Azure inference host "
            f"({FOUNDRY_HOSTS}); keys and tokens go to another host only with --allow-host 127.0.0.1",
            id="another host",
        ),
        pytest.param(
            lambda server, other: foundry_pointed_at(
                server, host=lambda account: f"{account}.eastus2.models.ai.azure.com"
            ),
            [],
            f"foundryDeployments.fdy-chat/ministral.baseUrl: fdy-chat.eastus2.models.ai.azure.com is not an Azure "
            f"inference host ({FOUNDRY_HOSTS}); keys and tokens go to another host only with --allow-host "
            "fdy-chat.eastus2.models.ai.azure.com",
            id="a serverless host",
        ),
        pytest.param(
            lambda server, other: _moved_deployment(
                server, "chatCompletionsUrl", f"{other.foundry_base('fdy-chat')}/chat/completions"
            ),
            LOOPBACK,
            "foundryDeployments.fdy-chat/ministral.chatCompletionsUrl: http://127.0.0.1:{other} is not the origin of "
            "baseUrl (http://127.0.0.1:{port}); keys and tokens go there only",
            id="another port",
        ),
        pytest.param(
            lambda server, other: _moved_deployment(
                server, "chatCompletionsUrl", "ftp://files.example/chat/completions"
            ),
            LOOPBACK,
            "foundryDeployments.fdy-chat/ministral.chatCompletionsUrl: ftp://files.example is not the origin of "
            "baseUrl (http://127.0.0.1:{port}); keys and tokens go there only",
            id="another scheme",
        ),
        pytest.param(
            lambda server, other: foundry_pointed_at(server, host=foundry_host),
            [],
            "foundryDeployments.fdy-chat/ministral.baseUrl: http://fdy-chat.openai.azure.com:{port} is not https; "
            "keys and tokens go over plain http only to a loopback address given to --allow-host",
            id="an Azure host over http",
        ),
        pytest.param(
            lambda server, other: _moved_deployment(server, "baseUrl", "fdy-chat.openai.azure.com/openai/v1"),
            LOOPBACK,
            "foundryDeployments.fdy-chat/ministral.baseUrl: not an absolute http(s) URL",
            id="no scheme",
        ),
    ],
)
def test_a_foundry_credential_is_sent_to_the_deployments_own_origin_only(
    capsys: pytest.CaptureFixture[str],
    foundry: ChatServer,
    names: None,
    tmp_path: Path,
    move: Callable[[ChatServer, ChatServer], dict[str, Any]],
    args: Any,
    message: str,
) -> None:
    """A tampered outputs document exits 2 before any request; the server on the other origin records none."""
    with ChatServer({}, accounts=foundry_accounts()) as other:
        path = outputs_file(tmp_path, move(foundry, other))

        code, out, err = maas(capsys, "--outputs", str(path), "-e", "fdy-chat/ministral", *args, allow=False)

    assert (code, out, err) == (2, "", f"maas smoke: {message.format(port=foundry.port, other=other.port)}\n")
    assert (foundry.requests, other.requests) == ([], [])


def test_the_runner_refuses_a_hand_made_foundry_target(foundry: ChatServer) -> None:
    outputs = parse(json.dumps(foundry_pointed_at(foundry)), "outputs")
    [target] = smoke.targets(outputs, ["fdy-chat/ministral"], allow_hosts=["127.0.0.1"])
    with ChatServer({}, accounts=foundry_accounts()) as other:
        url = f"{other.foundry_base('fdy-chat')}/chat/completions"
        with httpx.Client() as client:
            [result] = runner(client, []).run(
                [smoke.FoundryTarget(target.endpoint, "openai", url, "key", target.output, target.key)]
            )

    assert (result.ok, result.attempts, result.problem) == (
        False,
        0,
        f"refused to send a credential to {url}: not the origin of the deployment's baseUrl",
    )
    assert (foundry.requests, other.requests) == ([], [])


def test_credentials_of_both_channels_echoed_by_a_foundry_resource_are_redacted(
    capsys: pytest.CaptureFixture[str], foundry: ChatServer, tmp_path: Path, credential: Credential
) -> None:
    foundry.script(
        "fdy-chat/ministral",
        Scripted(400, body={"error": {"message": f"api-key {FOUNDRY_KEY!r} with {KEYS['chat-ministral']}"}}),
    )
    foundry.script("fdy-docs/mistral-large-3", Scripted(body=completion(quote(TOKEN), 6)))

    code, report = smoke_json(capsys, outputs_file(tmp_path, mixed(foundry)), stderr=SKIPPED_OCR)

    assert code == 1
    assert report["checks"][3:] == [
        foundry_check(
            "fdy-chat/ministral",
            ok=False,
            status=400,
            problem="400 Bad Request: the request was refused (the service says: api-key '***' with ***)",
        ),
        foundry_check("fdy-chat/mistral-medium"),
        foundry_check("fdy-docs/mistral-large-3", auth="entra", model="***"),
    ]


# --- the stack a run names, and nothing on stderr but maas's own lines -----------------------------------------

UNAVAILABLE = (
    "DefaultAzureCredential failed to retrieve a token from the included credentials.\n"
    "Attempted credentials:\n"
    "\tEnvironmentCredential: EnvironmentCredential authentication unavailable. Environment variables are not fully "
    "configured.\n"
    "Visit https://aka.ms/azsdk/python/identity/environmentcredential/troubleshoot to troubleshoot this issue.\n"
    "\tWorkloadIdentityCredential: WorkloadIdentityCredential authentication unavailable.\n"
    "\tManagedIdentityCredential: ManagedIdentityCredential authentication unavailable, no response from the IMDS "
    "endpoint.\n"
    "\tSharedTokenCacheCredential: SharedTokenCacheCredential authentication unavailable. No accounts were found.\n"
    "\tVisualStudioCodeCredential: Failed to get Azure user details from Visual Studio Code.\n"
    "\tAzureCliCredential: Azure CLI not found on path\n"
    "\tAzurePowerShellCredential: PowerShell is not installed\n"
    "\tAzureDeveloperCliCredential: Azure Developer CLI could not be found.\n"
    "To mitigate this issue, please refer to the troubleshooting guidelines here at "
    "https://aka.ms/azsdk/python/identity/defaultazurecredential/troubleshoot."
)
"""What DefaultAzureCredential says when no credential works (azure-identity 1.x): 14 lines."""


class LoggingCredential(Credential):
    """Fails as DefaultAzureCredential does: a WARNING record through its module's logger, then the error."""

    def get_token(self, *scopes: str) -> Any:
        logging.getLogger("azure.identity._credentials.chained").warning(UNAVAILABLE)
        return super().get_token(*scopes)


def test_a_failing_credential_leaves_only_maas_lines_on_stderr(
    capsys: pytest.CaptureFixture[str], foundry: ChatServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No handler is configured in the maas process: without its own quiet, Python's last-resort handler would
    print the library's 14 lines on stderr. The one line there is maas's skip of the OCR deployment; the Entra ID
    check's failure is in the report."""
    made = LoggingCredential(TOKEN, ClientAuthenticationError(UNAVAILABLE))
    monkeypatch.setattr(smoke, "default_credential", lambda: made)
    root = logging.getLogger()
    handlers = root.handlers[:]
    root.handlers.clear()  # as in the console script: pytest's own capturing handlers would hide a last resort
    try:
        code, out, err = maas(capsys, "--outputs", str(outputs_file(tmp_path, foundry_pointed_at(foundry))))
    finally:
        root.handlers[:] = handlers

    assert (code, err) == (1, SKIPPED_OCR)
    assert made.scopes == [(AI_SCOPE,)]
    assert out.splitlines()[-2:] == [
        "✗ fdy-docs/mistral-large-3 (openai/v1): no Entra ID token for https://ai.azure.com/.default: "
        "DefaultAzureCredential failed to retrieve a token from the included credentials. (sign in with `az login`, "
        "or set AZURE_CLIENT_ID/AZURE_TENANT_ID for a workload identity)",
        f"2 of 3 checks passed on the outputs in {tmp_path / 'outputs.json'}",
    ]
    assert logging.getLogger("azure").level == logging.NOTSET  # put back after the command


def test_the_selected_stack_is_smoke_tested_and_named(
    capsys: pytest.CaptureFixture[str],
    server: ChatServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    credential: Credential,
) -> None:
    """Without --stack: the stack `pulumi stack select` chose, passed to the Pulumi CLI as Pulumi recorded it."""
    fakes = pulumi_printing_outputs_of(server, tmp_path, monkeypatch)
    project = tmp_path / "project"
    (project / "infra").mkdir(parents=True)
    (project / "Pulumi.yaml").write_text("name: azure-maas\nruntime: python\n", encoding="utf-8")
    home = tmp_path / "pulumi-home"
    digest = hashlib.sha1(str(project / "Pulumi.yaml").encode(), usedforsecurity=False).hexdigest()
    (home / "workspaces").mkdir(parents=True)
    (home / "workspaces" / f"azure-maas-{digest}-workspace.json").write_text('{"stack": "acme/azure-maas/dev"}')
    monkeypatch.setenv("PULUMI_HOME", str(home))

    code, out, err = maas(capsys, "--cwd", str(project / "infra"), "--format", "json")

    assert (code, err) == (0, "")
    assert json.loads(out)["stack"] == "acme/azure-maas/dev"
    assert [call.argv[-2:] for call in fakes.calls("pulumi")] == [["--stack", "acme/azure-maas/dev"]]

    code, out, err = maas(capsys, "--cwd", str(project / "infra"), "-e", "eval-phi4")

    assert (code, err, out.splitlines()[-1]) == (0, "", "1 of 1 check passed on stack acme/azure-maas/dev")


def test_saved_outputs_are_named_by_stack_only(
    capsys: pytest.CaptureFixture[str],
    server: ChatServer,
    tmp_path: Path,
    credential: Credential,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The stack selected in the project need not be the one whose outputs were saved: only --stack names them,
    and a project part is held to the project when there is one."""
    path = outputs_file(tmp_path, pointed_at(server))
    monkeypatch.chdir(PROJECT)

    _, report = smoke_json(capsys, path, "-e", "eval-phi4", "--stack", "acme/azure-maas/prod")
    assert report["stack"] == "acme/azure-maas/prod"
    assert maas(capsys, "--outputs", str(path), "--stack", "acme/other/prod") == (
        2,
        "",
        "maas smoke: --stack acme/other/prod: the project part 'other' is not this project's name, 'azure-maas' (in "
        "Pulumi.yaml)\n",
    )
    _, report = smoke_json(capsys, path, "-e", "eval-phi4", "--stack", "acme/other/prod", "--cwd", "/")
    assert report["stack"] == "acme/other/prod"  # no project here to hold it to


@pytest.mark.parametrize(
    ("passed", "total", "line"),
    [
        (0, 0, "0 of 0 checks passed on stack dev"),
        (0, 1, "0 of 1 check passed on stack dev"),
        (1, 1, "1 of 1 check passed on stack dev"),
        (1, 2, "1 of 2 checks passed on stack dev"),
        (2, 2, "2 of 2 checks passed on stack dev"),
    ],
)
def test_the_summary_counts_in_words(passed: int, total: int, line: str) -> None:
    from rich.console import Console

    from infra.cli.render import smoke as render

    results = [
        smoke.Result("e", "inference", "key", False, i < passed, 200 if i < passed else 500, 1) for i in range(total)
    ]
    console = Console(file=io.StringIO(), width=120)
    render.print_smoke(results, console, "stack dev")

    assert render.summary_line(results, "stack dev") == line
    assert console.file.getvalue().splitlines()[-1] == line  # type: ignore[attr-defined]
