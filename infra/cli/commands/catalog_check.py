"""``maas catalog check``: every stack's deployments judged against the catalog's lifecycle on a day.

Reads each ``Pulumi.<stack>.yaml`` of the project (as the engine reads it), resolves each deployment's model
as the program does, and says which models are dead (deprecated or retired) on the day, or will be within a
number of days. Nothing else of the config is judged here: ``maas plan`` does that.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from infra.cli import options
from infra.cli.command import Command
from infra.cli.output import plural
from infra.errors import ExitCode, UserError

if TYPE_CHECKING:
    from pydantic import TypeAdapter
    from rich.console import Console

    from infra import catalog as catalog_module
    from infra.catalog import Catalog, Stage
    from infra.engine.stack_files import ProjectFile
    from infra.settings import DeploymentConfig, FoundryConfig, FoundryDeploymentConfig, WorkspaceConfig

# infra.settings (and through it the Pulumi SDK) and the catalog are imported when the check runs, not when the
# command line is parsed.

Verdict = Literal["living", "dying", "dead", "unknown"]
"""``dying``: deprecated or retired within the window; ``unknown``: a raw model ID the catalog does not know."""


@cache
def _adapters() -> tuple[TypeAdapter[tuple[WorkspaceConfig, ...]], TypeAdapter[tuple[FoundryConfig, ...]]]:
    """The validators of the ``workspaces`` and ``foundries`` config lists."""
    from pydantic import TypeAdapter

    from infra.settings import FoundryConfig, WorkspaceConfig

    return TypeAdapter(tuple[WorkspaceConfig, ...]), TypeAdapter(tuple[FoundryConfig, ...])


JSON_FIELDS: dict[str, str] = {
    "schemaVersion": "1; changes when a field changes meaning or goes away.",
    "today": "The day the lifecycle is judged on.",
    "within": "The window in days (`--within`).",
    "catalogAsOf": "The day the catalog's facts were last read as a whole.",
    "ok": "False when a deployment's model is dead, or dies within the window.",
    "deployments": "Every deployment of every stack.",
    "deployments[].stack": "The stack.",
    "deployments[].at": "The deployment's key path, e.g. `azure-maas:workspaces[0].deployments[1]`.",
    "deployments[].name": "The endpoint's name.",
    "deployments[].model": "The catalog key, or the raw model ID when the catalog does not know it.",
    "deployments[].stage": "The model's stage on `today`, or null for an unknown model.",
    "deployments[].stageAtEndOfWindow": "Its stage `within` days later.",
    "deployments[].verdict": "`living`, `dying` (within the window), `dead` or `unknown`.",
    "deployments[].allowRetired": "True when the deployment sets `allowRetired` (listed, not failing).",
    "deployments[].reason": "Why it is dying or dead, with the replacement; empty when living.",
}
"""Every field of ``maas catalog check --format json``; docs/cli.md shows them and a test holds them to the
document."""


class CheckInputError(UserError):
    """A stack file cannot be read, or its workspaces are not valid config (exit code 2)."""


@dataclass(frozen=True)
class Judged:
    stack: str
    at: str
    """The deployment's key path, e.g. ``azure-maas:workspaces[0].deployments[1]``."""
    name: str
    model: str
    """The catalog key, or the raw model ID when the catalog does not know it."""
    stage: Stage | None
    stage_later: Stage | None
    """The stage at the end of the window."""
    verdict: Verdict
    allow_retired: bool
    reason: str


@dataclass(frozen=True)
class _Wanted:
    """A deployment of a stack (serverless endpoint or Foundry deployment) and the catalog row of its model."""

    at: str
    name: str
    model: str
    """The catalog key, or how the config names a model the catalog does not know."""
    entry: catalog_module.Model | None
    unknown: str
    """Why there are no lifecycle facts, when ``entry`` is None."""
    allow_retired: bool
    channel: Literal["serverless", "foundry"] = "serverless"


def _config_list(config: dict[str, str], key: str, adapter: TypeAdapter[Any], path: Path, stack: str) -> Any:
    from pydantic import ValidationError

    from infra.settings import NAMESPACE

    raw = config.get(f"{NAMESPACE}:{key}")
    if raw is None:
        return ()
    try:
        return adapter.validate_python(json.loads(raw))
    except (ValueError, ValidationError):
        raise CheckInputError(
            f"{path.name}: {NAMESPACE}:{key} is not valid config; `maas plan --stack {stack}` says why"
        ) from None


def _serverless(at: str, deployment: DeploymentConfig, catalog: Catalog) -> _Wanted:
    from infra.settings import resolve_model

    resolved = resolve_model(deployment, catalog)
    allow = deployment.allow_retired
    if resolved is None or resolved.entry is None:
        model = deployment.model or deployment.model_id or "?"
        why = "not in the catalog: no lifecycle facts" if resolved else "not a catalog key"
        return _Wanted(at, deployment.name, model, None, why, allow)
    return _Wanted(at, deployment.name, resolved.entry.key, resolved.entry, "", allow)


def _foundry(at: str, deployment: FoundryDeploymentConfig, catalog: Catalog) -> _Wanted:
    allow = deployment.allow_retired
    if deployment.model is not None:
        entry = catalog.get(deployment.model)
        if entry is None:
            return _Wanted(at, deployment.name, deployment.model, None, "not a catalog key", allow, "foundry")
        return _Wanted(at, deployment.name, entry.key, entry, "", allow, "foundry")
    format_, name = deployment.format or "?", deployment.model_name or "?"
    entry = catalog.by_foundry_model(format_, name)
    if entry is None:
        why = "not in the catalog: no lifecycle facts"
        return _Wanted(at, deployment.name, f"{format_}/{name}", None, why, allow, "foundry")
    return _Wanted(at, deployment.name, entry.key, entry, "", allow, "foundry")


def _deployments(project: ProjectFile, stack: str, catalog: Catalog) -> list[_Wanted]:
    from infra.engine.stack_files import StackFileError, read_stack_file
    from infra.settings import key_path

    path = project.stack_file(stack)
    try:
        config = read_stack_file(path, project).config  # as the engine merges it with Pulumi.yaml's config
    except StackFileError as error:
        raise CheckInputError(str(error).splitlines()[0]) from None
    workspaces_adapter, foundries_adapter = _adapters()
    workspaces = _config_list(config, "workspaces", workspaces_adapter, path, stack)
    foundries = _config_list(config, "foundries", foundries_adapter, path, stack)
    return [
        _serverless(key_path(("workspaces", i, "deployments", j)), deployment, catalog)
        for i, ws in enumerate(workspaces)
        for j, deployment in enumerate(ws.deployments)
    ] + [
        _foundry(key_path(("foundries", i, "deployments", j)), deployment, catalog)
        for i, foundry in enumerate(foundries)
        for j, deployment in enumerate(foundry.deployments)
    ]


def _judge(stack: str, wanted: _Wanted, catalog: Catalog, today: dt.date, within: int) -> Judged:
    from infra import catalog as catalog_module

    at, name, allow, entry = wanted.at, wanted.name, wanted.allow_retired, wanted.entry
    if entry is None:
        return Judged(stack, at, name, wanted.model, None, None, "unknown", allow, f"{wanted.model}: {wanted.unknown}")
    later = today + dt.timedelta(days=within)
    now, then = entry.lifecycle.stage_on(today), entry.lifecycle.stage_on(later)
    verdict_now = catalog_module.judge(entry, today, catalog, wanted.channel)
    if verdict_now.blocked:
        return Judged(stack, at, name, entry.key, now, then, "dead", allow, verdict_now.reason)
    verdict_later = catalog_module.judge(entry, later, catalog, wanted.channel)
    if verdict_later.blocked:  # the stage changes on an announced date within the window
        reason = verdict_later.reason.replace(f"was {then.lower()} on", f"will be {then.lower()} on", 1)
        return Judged(stack, at, name, entry.key, now, then, "dying", allow, reason)
    return Judged(stack, at, name, entry.key, now, then, "living", allow, "")


def check(project: ProjectFile, catalog: Catalog, today: dt.date, within: int = 0) -> list[Judged]:
    """Every deployment of every stack of the project, judged on ``today`` and ``within`` days later."""
    judged: list[Judged] = []
    for stack in project.stacks():
        judged += [_judge(stack, wanted, catalog, today, within) for wanted in _deployments(project, stack, catalog)]
    return judged


def failing(judged: Sequence[Judged]) -> list[Judged]:
    """What fails the check: dead or dying models, unless the deployment set ``allowRetired``."""
    return [j for j in judged if j.verdict in ("dead", "dying") and not j.allow_retired]


def to_json(judged: Sequence[Judged], catalog: Catalog, today: dt.date, within: int) -> str:
    document: dict[str, Any] = {
        "schemaVersion": 1,
        "today": today.isoformat(),
        "within": within,
        "catalogAsOf": catalog.as_of.isoformat(),
        "ok": not failing(judged),
        "deployments": [
            {
                "stack": j.stack,
                "at": j.at,
                "name": j.name,
                "model": j.model,
                "stage": j.stage,
                "stageAtEndOfWindow": j.stage_later,
                "verdict": j.verdict,
                "allowRetired": j.allow_retired,
                "reason": j.reason,
            }
            for j in judged
        ],
    }
    return json.dumps(document, indent=2)


def lines(
    judged: Sequence[Judged], catalog: Catalog, today: dt.date, within: int, checked: Sequence[str] = ()
) -> list[str]:
    """The text report: one line per deployment that needs attention, then a summary line; ``checked`` are the
    stacks read (a stack without deployments has none in ``judged``)."""
    names = sorted({*checked, *(j.stack for j in judged)})
    found = []
    for j in judged:
        if j.verdict == "living":
            continue
        mark = "!" if j.verdict == "unknown" or j.allow_retired else "✗"
        allowed = " (allowRetired is set)" if j.allow_retired and j.verdict != "unknown" else ""
        found.append(f"{mark} {j.stack}: {j.at} ({j.name}): {j.reason}{allowed}")
    judged_on = f"judged on {today.isoformat()}, catalog as of {catalog.as_of.isoformat()}"
    bad = failing(judged)
    if bad:
        window = f" or will be within {plural(within, 'day')}" if within else ""
        verb = "uses" if len(bad) == 1 else "use"
        summary = (
            f"{len(bad)} of {plural(len(judged), 'deployment')} {verb} a model that is deprecated or retired{window}"
        )
    else:
        window = f" for the next {plural(within, 'day')}" if within else ""
        deployments, of_stacks = plural(len(judged), "deployment"), f"of {plural(len(names), 'stack')}"
        if not judged:
            summary = f"no deployments {of_stacks}: nothing to judge"
        elif len(judged) == 1:
            summary = f"{deployments} {of_stacks} uses a living model{window}"
        else:
            summary = f"all {deployments} {of_stacks} use living models{window}"
    return [*found, f"{summary} ({judged_on})"]


# --- the command ------------------------------------------------------------------------------------------


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--within",
        type=options.days,
        default=0,
        metavar="DAYS",
        help="also fail for models deprecated or retired within this many days (default: 0)",
    )
    options.add_format(parser, ("text", "json"))
    options.add_cwd(parser)
    options.add_today(parser)


def execute(args: argparse.Namespace, out: Console, errors: Console) -> int:
    from infra import catalog as catalog_module
    from infra.cli import stacks
    from infra.cli.output import warn_if_stale

    known = catalog_module.load()
    today = args.today or dt.date.today()
    warn_if_stale(known, today, "catalog check", errors)
    project = stacks.find_project(args.cwd).settings
    names = project.stacks()
    if not names:
        raise CheckInputError(f"no Pulumi.<stack>.yaml in {project.stack_config_dir.resolve()}")
    judged = check(project, known, today, args.within)
    if args.format == "json":
        sys.stdout.write(to_json(judged, known, today, args.within) + "\n")
    else:
        for line in lines(judged, known, today, args.within, names):
            out.print(line, markup=False, highlight=False, soft_wrap=True)
    return ExitCode.FAILED if failing(judged) else ExitCode.OK


COMMAND = Command(
    name="catalog check",
    help="check every stack's models against today's lifecycle",
    description="Read every Pulumi.<stack>.yaml of the project and judge each deployment's catalog model on "
    "the day: exit 1 naming the deployments whose model is deprecated or retired (or retires within "
    "--within days). Needs no login. Exit codes: 0 all models living, 1 a model died or will die soon, "
    "2 no Pulumi.yaml is found or a stack file cannot be read.",
    add_arguments=add_arguments,
    execute=execute,
)
