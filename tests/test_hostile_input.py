"""Broken or hostile input is a one-line user error (exit 2), never an internal failure or an exhausted machine;
stop signals stop the policy pack; a closed stdout is not a verdict; nothing from a config renders as Markdown."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from infra.cli import app as cli
from infra.cli.render import plan as render
from tests.conftest import DEV_STACK, PROJECT, ROOT
from tests.fakes import Fakes
from tests.harness import TODAY
from tests.test_capture_fast_path import generated_config

SCRIPTS = ROOT / "scripts"
MAAS = Path(sys.executable).with_name("maas")


def alias_bomb() -> str:
    """Nine lines of YAML that a program walking them would see as 10^9 values."""
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 9)]
    return "config:\n  azure-maas:location: eastus2\n  azure-maas:tags:\n" + "".join(f"    {x}\n" for x in lines)


STACK_FILES: list[tuple[str, bytes, str]] = [
    (
        "alias-bomb",
        alias_bomb().encode(),
        "holds more than 200,000 values once its YAML aliases are expanded; "
        "write the values out instead of aliasing them",
    ),
    (
        "latin-1",
        "config:\n  azure-maas:location: \xe9astus\n".encode("latin-1"),
        "not UTF-8 text (byte 0xe9 at offset 31); save it as UTF-8",
    ),
    ("top-level-list", b"- a\n- b\n", "the top level must be a mapping of keys to values, not a list"),
    ("deep", b"config:\n  azure-maas:tags: " + b"[" * 5000 + b"]" * 5000 + b"\n", "nested deeper than 64 levels"),
    ("huge", b"config: {}\n" + b"#" * (4 * 1024 * 1024), "larger than 4 MiB; not a stack file"),
]


def plan(capsys: pytest.CaptureFixture[str], project: Path, *args: str) -> tuple[int, str, str]:
    code = cli.main(["plan", "--cwd", str(project), "--today", TODAY.isoformat(), *args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "Pulumi.yaml").write_text("name: azure-maas\nruntime: python\n", encoding="utf-8")
    (tmp_path / "Pulumi.dev.yaml").write_text(DEV_STACK.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


PROJECT_FILES: list[tuple[str, bytes, str]] = [
    ("project-latin-1", b"name: azure-maas\xff\n", "not UTF-8 text (byte 0xff at offset 16); save it as UTF-8"),
    ("project-top-level-list", b"- name\n", "the top level must be a mapping of keys to values, not a list"),
]


@pytest.mark.parametrize(
    ("file", "content", "problem"),
    [("Pulumi.dev.yaml", c, p) for _, c, p in STACK_FILES] + [("Pulumi.yaml", c, p) for _, c, p in PROJECT_FILES],
    ids=[i for i, _, _ in STACK_FILES + PROJECT_FILES],
)
def test_a_broken_stack_or_project_file_is_a_one_line_config_error(
    capsys: pytest.CaptureFixture[str], project: Path, file: str, content: bytes, problem: str
) -> None:
    (project / file).write_bytes(content)

    assert plan(capsys, project, "--stack", "dev") == (2, "", f"maas plan: {project}/{file}: {problem}\n")


@pytest.mark.parametrize(
    ("name", "content", "problem"),
    [
        ("deep.json", b"[" * 100_000 + b"]" * 100_000, "nested deeper than 64 levels"),
        ("latin.json", b'{"a": "\xe9"}', "not UTF-8 text (byte 0xe9 at offset 7); save it as UTF-8"),
        (
            "bomb.yaml",
            alias_bomb().encode(),
            "holds more than 200,000 values once its YAML aliases are expanded; "
            "write the values out instead of aliasing them",
        ),
    ],
    ids=["deep-json", "latin-1", "alias-bomb"],
)
def test_a_broken_policy_config_is_a_one_line_config_error(
    capsys: pytest.CaptureFixture[str], project: Path, name: str, content: bytes, problem: str
) -> None:
    (project / name).write_bytes(content)

    code, out, err = plan(capsys, project, "--stack", "dev", "--policy-pack-config", str(project / name))

    assert (code, out, err) == (2, "", f"maas plan: invalid policy pack config {project / name}: {problem}\n")


def test_an_over_long_stack_name_is_refused_before_any_file_is_read(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    code, out, err = plan(capsys, project, "--stack", "a" * 5000)

    assert (code, out) == (2, "")
    assert err.endswith(": 1-100 letters, digits, '-', '_' or '.' (Pulumi's rule for stack names)\n")
    assert err.startswith("maas plan: --stack: 'aaaa")


# --- signals and a closed stdout ------------------------------------------------------------------------------


def _children(pid: int) -> list[int]:
    """Processes whose parent is ``pid`` (from /proc, Linux)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(entry.name))
    return found


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (the first is the state), or None when there is no
    such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None


def _alive(pid: int) -> bool:
    """Whether process ``pid`` runs (a zombie, ended but not yet reaped, does not)."""
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"


def _niced(pid: int) -> bool:
    """Whether process ``pid`` runs at a lower priority than this one (``nice``, field 19 of its stat)."""
    stat = _stat(pid)
    return stat is not None and int(stat[16]) > os.getpriority(os.PRIO_PROCESS, 0)


def _listening(pid: int) -> bool:
    """Whether process ``pid`` has a TCP socket listening (from /proc, Linux)."""
    try:
        sockets = {os.readlink(fd) for fd in Path(f"/proc/{pid}/fd").iterdir()}
        tables = [Path(f"/proc/{pid}/net/{name}").read_text().splitlines()[1:] for name in ("tcp", "tcp6")]
    except OSError:
        return False
    listening = {f"socket:[{row.split()[9]}]" for table in tables for row in table if row.split()[3] == "0A"}
    return bool(sockets & listening)


def _pack_and_relay(process: subprocess.Popen[Any], until: Callable[[list[int]], bool]) -> list[int]:
    """The process IDs of the policy pack and the relay of a running ``maas plan``, once both run and ``until``
    holds for them."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and process.poll() is None:
        children = _children(process.pid)
        if len(children) == 2 and until(children):
            return children
        time.sleep(0.005)
    raise AssertionError("maas plan ended before its pack and its relay were as the test waits for them")


def _ended(pids: list[int], within: float = 10.0) -> list[int]:
    """Those of ``pids`` still running after at most ``within`` seconds (a bound, not a measurement)."""
    deadline = time.monotonic() + within
    while [pid for pid in pids if _alive(pid)] and time.monotonic() < deadline:
        time.sleep(0.05)
    return [pid for pid in pids if _alive(pid)]


def _plan_large(project: Path) -> subprocess.Popen[str]:
    """``maas plan`` of 200 deployments in ``project``: its program runs on for a second or more once the pack
    serves, so a test can act while both the pack and the relay run."""
    config = {k: json.loads(v) if v[:1] in "[{" else v for k, v in generated_config(200).items()}
    (project / "Pulumi.large.yaml").write_text(json.dumps({"config": config}), encoding="utf-8")
    return subprocess.Popen(
        [str(MAAS), "plan", "--stack", "large", "--cwd", str(project), "--today", TODAY.isoformat()],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads child processes from /proc")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP], ids=lambda s: s.name)
def test_a_stop_signal_stops_the_policy_pack_and_the_relay_and_exits_with_one_line(
    signum: signal.Signals, project: Path
) -> None:
    process = _plan_large(project)
    # Both taken over: maas plan has set their priority, which it does once it holds each.
    children = _pack_and_relay(process, until=lambda pids: all(_niced(pid) for pid in pids))

    process.send_signal(signum)
    _, err = process.communicate(timeout=30)

    assert (process.returncode, err) == (128 + signum, f"maas plan: stopped by {signum.name}\n")
    assert [pid for pid in children if _alive(pid)] == []  # at once: maas plan waits for both to end before it exits


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads child processes from /proc")
def test_a_stop_signal_while_the_pack_and_the_relay_start_leaves_neither_running(project: Path) -> None:
    process = _plan_large(project)
    # As soon as both exist: maas plan may still be starting either (a signal inside subprocess.Popen leaves the
    # caller no handle to stop it by; its input ends when maas plan ends, and so does it).
    children = _pack_and_relay(process, until=lambda _: True)

    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=30)

    assert (process.returncode, err) == (128 + signal.SIGTERM, "maas plan: stopped by SIGTERM\n")
    assert _ended(children) == []


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads child processes from /proc")
def test_the_processes_maas_plan_starts_end_when_it_is_killed_without_a_chance_to_stop_them(project: Path) -> None:
    process = _plan_large(project)
    # The pack serving: it has printed its port and writes nothing more to maas plan.
    children = _pack_and_relay(process, until=lambda pids: any(_listening(pid) for pid in pids))

    process.kill()  # SIGKILL: maas plan stops nothing itself
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL

    assert _ended(children) == []  # each as soon as its input ends


@pytest.mark.parametrize(
    "args", [["models"], ["plan", "--stack", "dev", "--cwd", str(PROJECT)]], ids=["models", "plan"]
)
def test_a_closed_stdout_is_not_a_verdict(args: list[str]) -> None:
    process = subprocess.Popen(
        [str(MAAS), *args, "--today", TODAY.isoformat()], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader went away (`maas plan | head -0`)
    _, err = process.communicate(timeout=60)

    name = f"maas {args[0]}"
    assert (process.returncode, err.decode()) == (141, f"{name}: the output was closed before everything was written\n")


# --- Markdown ---------------------------------------------------------------------------------------------------


def test_text_from_a_config_never_renders_as_markdown() -> None:
    hostile = "a|b `x` <img src=x> [l](http://e) **b**\n# h"

    assert render._cell(hostile) == "a\\|b \\`x\\` \\<img src=x\\> \\[l\\](http\\://e) \\*\\*b\\*\\*<br># h"
    assert render._cell("see www.example.com or me@example.com") == "see www\\.example.com or me\\@example.com"
    assert render._code("a``b|c") == "```a``b\\|c```"
    assert render._code("`x") == "`` `x ``"
    assert render._mermaid_text('a"b```<x>') == "a#quot;b#96;#96;#96;#lt;x#gt;"


def test_a_policy_message_with_markdown_is_escaped_in_the_comment(
    capsys: pytest.CaptureFixture[str], project: Path
) -> None:
    policy = project / "policy.json"
    policy.write_text(json.dumps({"required-tags": {"requiredTags": ["**owner**|`x`"]}}), encoding="utf-8")

    code, out, _ = plan(capsys, project, "--stack", "dev", "--format", "markdown", "--policy-pack-config", str(policy))

    rows = [line for line in out.splitlines() if "required-tags" in line]
    assert code == 0
    assert rows
    assert all("\\*\\*owner\\*\\*\\|\\`x\\`" in row and "**owner**" not in row for row in rows)


def test_the_failure_comment_fences_a_message_that_holds_backticks(tmp_path: Path) -> None:
    fakes = Fakes(tmp_path / "fakes")
    fakes.add("uv")
    stderr = "maas plan: azure-maas:tags.x: got '````\\n# pwned': not valid\n"
    fakes.answer("uv", ["maas", "plan"], stdout="", stderr=stderr, exit=2)

    result = fakes.run([str(SCRIPTS / "plan-markdown.sh"), "dev", "plan.md"], env={}, cwd=tmp_path)

    assert result.returncode == 0
    assert (tmp_path / "plan.md").read_text(encoding="utf-8") == (
        "<!-- maas-plan stack=dev -->\n## maas plan: stack `dev` could not be planned\n\n"
        f"Exit code 2 (invalid configuration):\n\n`````text\n{stderr}`````\n"
    )


def test_an_over_long_value_is_quoted_cut_in_the_message(capsys: pytest.CaptureFixture[str], project: Path) -> None:
    name = "w" * 100_000
    (project / "Pulumi.long.yaml").write_text(
        f"config:\n  azure-maas:location: eastus2\n  azure-maas:workspaces:\n    - name: {name}\n      kind: workspace\n",
        encoding="utf-8",
    )

    code, out, err = plan(capsys, project, "--stack", "long")

    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "maas plan: invalid stack config (1 problem); nothing was created",
        f"  azure-maas:workspaces[0].name: '{'w' * 78}… (100,002 characters) is not a valid workspace name: 3-33 "
        "characters, starting with a letter or digit, then letters, digits, '_' or '-'",
    ]


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b'{"endpoints": "\xe9"}', "is not UTF-8 text (a bad byte at offset 15)"),
        (b"[" * 100_000 + b"]" * 100_000, "is nested too deeply to be stack outputs"),
        (b" " * (4 * 1024 * 1024 + 1), "is larger than 4 MiB: not stack outputs"),
    ],
    ids=["latin-1", "deep", "huge"],
)
def test_a_broken_outputs_document_is_a_one_line_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, content: bytes, problem: str
) -> None:
    path = tmp_path / "outputs.json"
    path.write_bytes(content)

    code = cli.main(["smoke", "--outputs", str(path), "--today", TODAY.isoformat()])

    assert (code, capsys.readouterr().err) == (2, f"maas smoke: {path} {problem}\n")
