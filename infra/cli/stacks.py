"""Which project and which stack a command works on, found as the Pulumi CLI finds them.

- **The project** is the nearest ``Pulumi.yaml`` from the working directory (or ``--cwd``) upward, to the
  filesystem root, as ``pulumi`` looks for it. In each directory Pulumi tries ``Pulumi.json``, ``Pulumi.yaml``
  and ``Pulumi.yml``, in that order; maas reads ``Pulumi.yaml`` only, so a ``Pulumi.json`` or ``Pulumi.yml``
  that Pulumi would take is an error rather than a project silently skipped.
- **The stack** is ``--stack`` when given, else the stack ``pulumi stack select`` chose for this project, else an
  error listing the project's stacks.
- **A stack name** is ``stack``, ``org/stack`` or ``org/project/stack``, as Pulumi takes it. The short name picks
  ``Pulumi.<stack>.yaml``; a project part must be this project's name. Where maas calls the Pulumi CLI, it
  passes the name as given, so the backend resolves the organization.
"""

from __future__ import annotations

import hashlib
import os
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from azure_maas_policy.facts import shown
from infra.engine.documents import DocumentError, load_mapping
from infra.engine.stack_files import PROJECT_FILE, ProjectFile, read_project
from infra.errors import UserError
from infra.names import ORGANIZATION_NAME, PULUMI_PROJECT_NAME, STACK_NAME

PROJECT_FILES = ("Pulumi.json", "Pulumi.yaml", "Pulumi.yml")
"""The project files Pulumi looks for in each directory, in the order it tries them (``encoding.Exts`` in
pulumi/pulumi ``sdk/go/common/encoding/marshal.go``: ``.json``, ``.yaml``, ``.yml``)."""

# Where Pulumi keeps the stack `pulumi stack select` chose: pulumi/pulumi sdk/go/common/workspace/workspace.go,
# settingsPath(): `$PULUMI_HOME/workspaces/<project name>-<sha1 hex of the project file's path>-workspace.json`
# (GetPulumiPath(WorkspaceDir, ...) with WorkspaceDir "workspaces" and WorkspaceFile "workspace.json"; PULUMI_HOME
# defaults to ~/.pulumi), a JSON object whose "stack" field is the selected stack's name, perhaps qualified.
WORKSPACE_DIR = "workspaces"
WORKSPACE_FILE = "workspace.json"
PULUMI_HOME = "PULUMI_HOME"
DEFAULT_PULUMI_HOME = ".pulumi"
"""Under the user's home directory, when ``PULUMI_HOME`` is not set."""

QUALIFIED = "`stack`, `org/stack` or `org/project/stack`"


class StackError(UserError):
    """The project or the stack cannot be found, or a stack name is not one (exit code 2)."""


class NoProjectError(StackError):
    """No ``Pulumi.yaml`` from the directory up to the filesystem root."""


@dataclass(frozen=True)
class Project:
    """A ``Pulumi.yaml`` and what it says."""

    directory: Path
    """The project directory as messages show it: relative to the working directory when it is inside it."""
    file: Path
    """The absolute path of ``Pulumi.yaml`` as Pulumi names it (symbolic links kept): what the name of the
    workspace file that records the selected stack is derived from."""
    settings: ProjectFile

    @property
    def name(self) -> str:
        return self.settings.name

    def stacks(self) -> list[str]:
        """The project's stacks: each ``Pulumi.<stack>.yaml``, sorted."""
        return self.settings.stacks()


@dataclass(frozen=True)
class StackRef:
    """A stack as the user named it (``--stack``) or Pulumi selected it."""

    given: str
    """As given or selected: ``dev``, ``org/dev`` or ``org/project/dev``; what reports show and the Pulumi CLI
    is passed."""
    short: str
    """The stack's own name, which picks ``Pulumi.<short>.yaml``."""
    organization: str | None = None
    project: str | None = None


def parse(text: str, origin: str = "--stack") -> StackRef:
    """``text`` as a stack name; :class:`StackError` naming ``origin`` and the part that is not valid."""
    parts = text.split("/")
    if len(parts) > 3:
        raise StackError(f"{origin}: {shown(text)} is not a stack name: {QUALIFIED}")
    organization = parts[0] if len(parts) > 1 else None
    project = parts[1] if len(parts) == 3 else None
    short = parts[-1]
    for rule, value in ((ORGANIZATION_NAME, organization), (PULUMI_PROJECT_NAME, project), (STACK_NAME, short)):
        problem = rule.problem(value) if value is not None else None
        if problem:
            raise StackError(f"{origin}: {problem}")
    return StackRef(text, short, organization, project)


def _working_directory() -> Path:
    """The working directory as Go's ``os.Getwd`` (and so Pulumi) gives it: ``$PWD`` when that names the same
    directory (symbolic links kept), else the operating system's."""
    here = os.getcwd()
    pwd = os.environ.get("PWD", "")
    try:
        if os.path.isabs(pwd) and os.path.samefile(pwd, here):
            return Path(pwd)
    except OSError:
        pass
    return Path(here)


def find_project(cwd: Path | None) -> Project:
    """The nearest ``Pulumi.yaml`` from ``cwd`` (default: the working directory) upward, read."""
    here = _working_directory()
    if cwd is not None and not os.path.isdir(cwd):
        raise StackError(f"--cwd {cwd}: not a directory")
    start = Path(os.path.normpath(here / cwd)) if cwd is not None else here
    for directory in (start, *start.parents):
        for name in PROJECT_FILES:
            candidate = directory / name
            if not os.path.isfile(candidate):  # unreadable directories count as holding none, as for Pulumi
                continue
            if name != PROJECT_FILE:
                raise StackError(
                    f"{candidate}: the Pulumi CLI would take this project file, and maas reads {PROJECT_FILE} only; "
                    f"convert it to {PROJECT_FILE}"
                )
            where = directory.relative_to(here) if directory.is_relative_to(here) else directory
            return Project(where, candidate, read_project(where))
    raise NoProjectError(
        f"no {PROJECT_FILE} in {start} or any parent directory; run maas in the project (or pass --cwd)"
    )


def pulumi_home() -> Path | None:
    """``$PULUMI_HOME``, else ``~/.pulumi``; None when there is no home directory to look in."""
    configured = os.environ.get(PULUMI_HOME, "")
    if configured:
        return Path(configured)
    try:
        return Path.home() / DEFAULT_PULUMI_HOME
    except RuntimeError:
        return None


def workspace_files(project: Project, home: Path) -> list[Path]:
    """Where Pulumi records this project's selected stack: named after the path of ``Pulumi.yaml`` as Pulumi was
    started on it, which keeps symbolic links in the working directory (``$PWD``) and resolves them under
    ``pulumi -C``; both are tried."""
    paths = dict.fromkeys([str(project.file), os.path.realpath(project.file)])
    return [
        home / WORKSPACE_DIR / f"{project.name}-{hashlib.sha1(path.encode(), usedforsecurity=False).hexdigest()}-"
        f"{WORKSPACE_FILE}"
        for path in paths
    ]


def selected(project: Project) -> StackRef | None:
    """The stack ``pulumi stack select`` chose for ``project``, or None. A workspace file that cannot be read as
    Pulumi writes it is a :class:`StackError` naming the file."""
    home = pulumi_home()
    if home is None:
        return None
    for path in workspace_files(project, home):
        if not os.path.lexists(path):
            continue
        try:
            document: dict[Any, Any] = load_mapping(path, "Pulumi workspace file", json_only=True)
        except DocumentError as error:
            raise StackError(str(error)) from None
        name = document.get("stack")
        if name is None or name == "":
            return None
        if not isinstance(name, str):
            raise StackError(f'{path}: "stack" must be the selected stack\'s name, not {_json_kind(name)}')
        ref = parse(name, f"{path}: the selected stack")
        check_project(ref, project, f"{path}: the selected stack {ref.given}")
        return ref
    return None


def _json_kind(value: object) -> str:
    kinds: tuple[tuple[type | types.UnionType, str], ...] = (
        (bool, "a boolean"),
        (int | float, "a number"),
        (list, "an array"),
        (dict, "an object"),
    )
    return next((kind for type_, kind in kinds if isinstance(value, type_)), type(value).__name__)


def check_project(ref: StackRef, project: Project, origin: str) -> None:
    """A stack name with a project part names this project, or :class:`StackError` naming both."""
    if ref.project is not None and ref.project != project.name:
        raise StackError(
            f"{origin}: the project part {ref.project!r} is not this project's name, {project.name!r} "
            f"(in {project.settings.path})"
        )


def resolve(given: StackRef | None, project: Project) -> StackRef:
    """``given`` (``--stack``, parsed before any file is read), else the selected stack, else a
    :class:`StackError` naming the project's stacks."""
    if given is not None:
        check_project(given, project, f"--stack {given.given}")
        return given
    chosen = selected(project)
    if chosen is None:
        raise StackError(
            "no stack selected: pass --stack or run 'pulumi stack select'; "
            f"stacks here: {', '.join(project.stacks()) or 'none'}"
        )
    return chosen
