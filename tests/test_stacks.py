"""Which project and stack a ``maas`` command works on (:mod:`infra.cli.stacks`): ``Pulumi.yaml`` found upward as
the Pulumi CLI finds it, the stack ``pulumi stack select`` recorded under ``$PULUMI_HOME/workspaces``, and fully
qualified stack names; through the real commands where a command is what the user sees."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from infra.cli import app as cli
from infra.cli import stacks
from infra.cli.stacks import StackError, StackRef
from infra.engine.stack_files import read_project
from tests.conftest import PROJECT
from tests.harness import TODAY

PROJECT_YAML = "name: azure-maas\nruntime: python\n"
LONG = "a" * 5000


def make_project(directory: Path, *stack_names: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "Pulumi.yaml").write_text(PROJECT_YAML, encoding="utf-8")
    for name in stack_names:
        (directory / f"Pulumi.{name}.yaml").write_text("config: {}\n", encoding="utf-8")
    return directory


def workspace_file(home: Path, project_file: Path, name: str = "azure-maas") -> Path:
    """Where Pulumi records the selected stack of the project whose ``Pulumi.yaml`` is ``project_file``."""
    digest = hashlib.sha1(str(project_file).encode(), usedforsecurity=False).hexdigest()
    return home / "workspaces" / f"{name}-{digest}-workspace.json"


def select(home: Path, directory: Path, content: bytes | str) -> Path:
    """What ``pulumi stack select`` leaves for the project in ``directory`` (``content``: the file's text)."""
    path = workspace_file(home, directory / "Pulumi.yaml")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    return path


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty PULUMI_HOME."""
    path = tmp_path / "pulumi-home"
    monkeypatch.setenv("PULUMI_HOME", str(path))
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- stack names ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "ref"),
    [
        ("dev", StackRef("dev", "dev")),
        ("acme/dev", StackRef("acme/dev", "dev", "acme")),
        ("acme/azure-maas/dev", StackRef("acme/azure-maas/dev", "dev", "acme", "azure-maas")),
        (
            "organization/azure-maas/prod.eu_1",
            StackRef("organization/azure-maas/prod.eu_1", "prod.eu_1", "organization", "azure-maas"),
        ),
    ],
    ids=["short", "org", "org-project", "diy-backend"],
)
def test_a_stack_name_may_be_qualified(text: str, ref: StackRef) -> None:
    assert stacks.parse(text) == ref


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("a/b/c/d", "--stack: 'a/b/c/d' is not a stack name: `stack`, `org/stack` or `org/project/stack`"),
        (
            "",
            "--stack: '' is not a valid stack name: 1-100 letters, digits, '-', '_' or '.' (Pulumi's rule for stack names)",
        ),
        (
            "acme/",
            "--stack: '' is not a valid stack name: 1-100 letters, digits, '-', '_' or '.' (Pulumi's rule for stack names)",
        ),
        ("/dev", "--stack: '' is not a valid organization name: 1-100 letters, digits, '-', '_' or '.'"),
        ("ac me/dev", "--stack: 'ac me' is not a valid organization name: 1-100 letters, digits, '-', '_' or '.'"),
        (
            "acme/az:maas/dev",
            "--stack: 'az:maas' is not a valid project name: 1-100 letters, digits, '-', '_' or '.' (Pulumi's rule for "
            "project names)",
        ),
        (
            "acme/dev\n",
            "--stack: 'dev\\n' is not a valid stack name: 1-100 letters, digits, '-', '_' or '.' (Pulumi's rule for stack names)",
        ),
    ],
    ids=["four-parts", "empty", "empty-short", "empty-org", "org-space", "project-colon", "line-break"],
)
def test_each_part_of_a_stack_name_is_checked(text: str, message: str) -> None:
    with pytest.raises(StackError) as raised:
        stacks.parse(text)

    assert str(raised.value) == message


def test_the_pulumi_cli_is_asked_for_the_stack_as_given(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``maas smoke --stack acme/azure-maas/dev`` runs ``pulumi stack output --stack acme/azure-maas/dev`` in the
    project directory, so that the backend resolves the organization."""
    project = make_project(tmp_path / "project", "dev")
    (project / "infra").mkdir()
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "pulumi-calls"
    fake = bin_dir / "pulumi"
    fake.write_text(
        f"#!/bin/sh\nprintf '%s|%s\\n' \"$PWD\" \"$*\" >> {log}\necho 'error: no stack named x' >&2\nexit 255\n",
        encoding="utf-8",
    )
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")

    code, out, err = run(capsys, "smoke", "--stack", "acme/azure-maas/dev", "--cwd", str(project / "infra"))

    assert (code, out) == (2, "")
    assert err == ("maas smoke: `pulumi stack output --stack acme/azure-maas/dev` failed: error: no stack named x\n")
    assert log.read_text(encoding="utf-8") == (
        f"{project}|stack output --json --show-secrets --non-interactive --stack acme/azure-maas/dev\n"
    )


# --- the project: Pulumi.yaml, upward -----------------------------------------------------------------------


def test_the_project_is_the_nearest_pulumi_yaml_upward(tmp_path: Path) -> None:
    outer = make_project(tmp_path / "outer")
    inner = make_project(outer / "inner")
    deep = inner / "a" / "b"
    deep.mkdir(parents=True)

    found = stacks.find_project(deep)

    assert (found.directory, found.file, found.name) == (inner, inner / "Pulumi.yaml", "azure-maas")
    assert stacks.find_project(inner / ".." / "inner" / "..").file == outer / "Pulumi.yaml"  # read as Go's Clean


def test_a_project_inside_the_working_directory_is_shown_relative_to_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_project(tmp_path / "here")
    (tmp_path / "here" / "infra").mkdir()
    monkeypatch.chdir(tmp_path / "here" / "infra")

    assert stacks.find_project(None).directory == tmp_path / "here"  # a parent: absolute
    assert stacks.find_project(Path("..")).directory == tmp_path / "here"
    monkeypatch.chdir(tmp_path)
    found = stacks.find_project(Path("here/infra"))
    assert (found.directory, found.file) == (Path("here"), tmp_path / "here" / "Pulumi.yaml")


def test_plan_runs_from_a_subdirectory_of_the_project(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As ``pulumi preview`` does in a subdirectory of the project."""
    project = tmp_path / "project"
    project.mkdir()
    for name in ("Pulumi.yaml", "Pulumi.dev.yaml"):
        (project / name).write_bytes((PROJECT / name).read_bytes())
    (project / "infra" / "deep").mkdir(parents=True)
    monkeypatch.chdir(project / "infra" / "deep")

    code, out, err = run(capsys, "plan", "--stack", "dev", "--format", "json", "--today", TODAY.isoformat())

    assert (code, err) == (0, "")
    document = json.loads(out)
    assert (document["project"], document["stack"], document["summary"]["resources"]) == ("azure-maas", "dev", 27)


def test_no_pulumi_yaml_up_to_the_root_is_one_line(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    for argv in (["plan", "--stack", "dev"], ["smoke", "--stack", "dev"], ["catalog", "check"]):
        code, out, err = run(capsys, *argv, "--cwd", str(empty))

        assert (code, out) == (2, "")
        command = " ".join(argv[:2]) if argv[0] == "catalog" else argv[0]
        assert err == (
            f"maas {command}: no Pulumi.yaml in {empty} or any parent directory; run maas in the project (or pass "
            "--cwd)\n"
        )


def test_cwd_must_be_a_directory(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert run(capsys, "plan", "--stack", "dev", "--cwd", str(tmp_path / "nope")) == (
        2,
        "",
        f"maas plan: --cwd {tmp_path / 'nope'}: not a directory\n",
    )


@pytest.mark.parametrize("name", ["Pulumi.json", "Pulumi.yml"])
def test_a_project_file_pulumi_would_take_first_is_named(tmp_path: Path, name: str) -> None:
    """Pulumi tries Pulumi.json, Pulumi.yaml, Pulumi.yml in each directory: maas reads Pulumi.yaml only, and says
    so rather than skip to a project further up."""
    make_project(tmp_path)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / name).write_text("{}", encoding="utf-8")

    with pytest.raises(StackError) as raised:
        stacks.find_project(tmp_path / "sub")

    assert str(raised.value) == (
        f"{tmp_path / 'sub' / name}: the Pulumi CLI would take this project file, and maas reads Pulumi.yaml only; "
        "convert it to Pulumi.yaml"
    )


def test_pulumi_json_beside_pulumi_yaml_is_the_one_pulumi_takes(tmp_path: Path) -> None:
    make_project(tmp_path)
    (tmp_path / "Pulumi.json").write_text("{}", encoding="utf-8")

    with pytest.raises(StackError, match=r"Pulumi\.json: the Pulumi CLI would take this project file"):
        stacks.find_project(tmp_path)


# --- the selected stack ----------------------------------------------------------------------------------------


def test_the_workspace_file_is_named_as_pulumi_names_it(home: Path) -> None:
    """``<project>-<sha1 of the Pulumi.yaml path>-workspace.json`` under ``$PULUMI_HOME/workspaces``; the digest
    here is ``printf '%s' /home/ada/maas/Pulumi.yaml | sha1sum``."""
    project = stacks.Project(Path("maas"), Path("/home/ada/maas/Pulumi.yaml"), read_project(PROJECT))

    assert stacks.workspace_files(project, home) == [
        home / "workspaces" / "azure-maas-9aab70fa695595c6a5c1df2b0dd98749f4aec9a4-workspace.json"
    ]


def test_pulumi_home_defaults_to_dot_pulumi(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("PULUMI_HOME")
    monkeypatch.setenv("HOME", str(tmp_path))

    assert stacks.pulumi_home() == tmp_path / ".pulumi"


@pytest.mark.parametrize(
    "selected",
    ["foundry", "acme/foundry", "organization/azure-maas/foundry"],
    ids=["short", "org", "qualified"],
)
def test_the_selected_stack_is_the_default(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path, selected: str
) -> None:
    project = make_project(tmp_path / "project", "dev", "foundry")
    select(home, project, json.dumps({"stack": selected}))

    ref = stacks.resolve(None, stacks.find_project(project))

    assert ref == stacks.parse(selected)
    assert ref.short == "foundry"


def test_stack_beats_the_selected_stack(home: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", "dev", "foundry")
    select(home, project, '{"stack": "foundry"}')

    assert stacks.resolve(stacks.parse("dev"), stacks.find_project(project)) == StackRef("dev", "dev")


def test_a_selection_through_a_symbolic_link_is_found(home: Path, tmp_path: Path) -> None:
    """``pulumi -C`` resolves symbolic links in the directory; Pulumi run in a linked directory keeps them."""
    real = make_project(tmp_path / "real", "dev")
    link = tmp_path / "link"
    link.symlink_to(real)
    select(home, real, '{"stack": "dev"}')

    project = stacks.find_project(link)

    assert project.file == link / "Pulumi.yaml"
    assert stacks.selected(project) == StackRef("dev", "dev")


@pytest.mark.parametrize("content", ["{}", '{"stack": ""}', '{"stack": null}'], ids=["no-stack", "empty", "null"])
def test_no_selection_names_the_stacks_here(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path, content: str
) -> None:
    project = make_project(tmp_path / "project", "prod", "dev")
    (project / "Pulumi.dev.policy.json").write_text("{}", encoding="utf-8")
    select(home, project, content)

    for argv in (["plan"], ["smoke"]):
        assert run(capsys, *argv, "--cwd", str(project)) == (
            2,
            "",
            f"maas {argv[0]}: no stack selected: pass --stack or run 'pulumi stack select'; stacks here: dev, prod\n",
        )


def test_no_selection_and_no_stack_files(capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "project")

    assert run(capsys, "plan", "--cwd", str(project)) == (
        2,
        "",
        "maas plan: no stack selected: pass --stack or run 'pulumi stack select'; stacks here: none\n",
    )


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ('{"stack": 5}', '"stack" must be the selected stack\'s name, not a number'),
        ('{"stack": ["dev"]}', '"stack" must be the selected stack\'s name, not an array'),
        ("[]", "the top level must be a mapping of keys to values, not a list"),
        ('{"stack": "dev"', "not valid JSON: Expecting ',' delimiter: line 1 column 16 (char 15)"),
        (b'{"stack": "d\xe9v"}', "not UTF-8 text (byte 0xe9 at offset 12); save it as UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nested deeper than 64 levels"),
        (b" " * (4 * 1024 * 1024 + 1), "larger than 4 MiB; not a Pulumi workspace file"),
        (
            '{"stack": "dev\\u001b[31m"}',
            "the selected stack: 'dev\\x1b[31m' is not a valid stack name: 1-100 letters, digits, '-', '_' or '.' "
            "(Pulumi's rule for stack names)",
        ),
        (
            '{"stack": "acme/other/dev"}',
            "the selected stack acme/other/dev: the project part 'other' is not this project's name, 'azure-maas' "
            "(in {project}/Pulumi.yaml)",
        ),
    ],
    ids=["number", "array", "list", "truncated", "latin-1", "deep", "huge", "escape", "other-project"],
)
def test_a_broken_workspace_file_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path, content: bytes | str, problem: str
) -> None:
    project = make_project(tmp_path / "project", "dev")
    path = select(home, project, content)

    assert run(capsys, "plan", "--cwd", str(project)) == (
        2,
        "",
        f"maas plan: {path}: {problem.format(project=project)}\n",
    )


def test_an_unreadable_workspace_file_is_one_line_naming_it(
    capsys: pytest.CaptureFixture[str], home: Path, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "project", "dev")
    path = workspace_file(home, project / "Pulumi.yaml")
    path.mkdir(parents=True)  # a directory where the file should be: unreadable as a file, whoever runs the test

    assert run(capsys, "plan", "--cwd", str(project)) == (
        2,
        "",
        f"maas plan: {path}: cannot read the Pulumi workspace file: Is a directory\n",
    )


def test_a_selection_is_only_read_when_no_stack_is_given(home: Path, tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", "dev")
    select(home, project, "not json")

    assert stacks.resolve(stacks.parse("dev"), stacks.find_project(project)) == StackRef("dev", "dev")


def test_a_stack_of_another_project_is_refused_naming_both(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    project = make_project(tmp_path / "project", "dev")

    assert run(capsys, "plan", "--stack", "acme/other/dev", "--cwd", str(project)) == (
        2,
        "",
        f"maas plan: --stack acme/other/dev: the project part 'other' is not this project's name, 'azure-maas' (in "
        f"{project}/Pulumi.yaml)\n",
    )


def test_an_over_long_stack_name_is_refused_before_the_project_is_looked_for(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    code, out, err = run(capsys, "plan", "--stack", f"acme/{LONG}", "--cwd", str(tmp_path / "nowhere"))

    assert (code, out) == (2, "")
    assert err == (
        f"maas plan: --stack: '{'a' * 78}… (5,002 characters) is not a valid stack name: 1-100 letters, digits, '-', "
        "'_' or '.' (Pulumi's rule for stack names)\n"
    )


def test_the_working_directory_keeps_the_links_of_pwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """As Go's os.Getwd, which Pulumi names the project file by: $PWD when it is the same directory."""
    real = make_project(tmp_path / "real")
    link = tmp_path / "link"
    link.symlink_to(real)
    monkeypatch.chdir(link)
    monkeypatch.setenv("PWD", str(link))

    assert stacks.find_project(None).file == link / "Pulumi.yaml"
    monkeypatch.setenv("PWD", str(tmp_path))  # stale: another directory
    assert stacks.find_project(None).file == Path(os.getcwd()) / "Pulumi.yaml"
