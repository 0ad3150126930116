"""Benchmark of ``maas plan``: one table, side by side, for the dev stack and generated stacks of 1 to 1,000
deployments: the command's wall time, CPU time and peak memory, its phases, and a bare azure-native program
registering the same resources under the SDK's standard mocks; then ``maas --help`` and ``maas models``, the
per-resource marginal cost, and the issue's targets marked ok or over.

Run from the repository root:

    uv run --frozen python benchmarks/plan.py            # every figure (a few minutes on 2 cores)
    uv run --frozen python benchmarks/plan.py --quick    # one run each, up to 100 deployments (under a minute)
    uv run --frozen python benchmarks/plan.py --sizes 1,500,1000 --json

How each figure is taken (every process is a new one, so nothing is shared between measurements):
- ``maas plan --stack <s> --format json``: the venv's console script run as a subprocess in the stack's project
  directory (the dev stack in tests/data/project, each generated stack in a temporary project with Pulumi.yaml and
  Pulumi.<s>.yaml); wall time around the process, CPU time (user + sys) and peak RSS from ``os.wait4``. The CPU
  time includes the policy-pack and ``Analyze`` relay processes maas starts; the peak RSS is that of the largest of
  the three processes (getrusage semantics), not their sum.
- Phases: a child process imports the CLI, calls ``run_preview`` and renders the JSON document with the CLI's own
  renderer, so the phases come from the command's code path: import (the CLI's modules), and the engine's own
  ``PreviewResult.timings`` (config, program, analyze = the wait for the policy pack after the program, whose
  ``Analyze`` calls run while the program does) plus render, timed around the renderer.
- Bare: a child process registers the same custom resources with azure-native directly under
  ``pulumi.runtime.set_mocks`` with a minimal ``pulumi.runtime.Mocks`` (the SDK's standard mock monitor, not our
  capturing engine): no settings, validation, components, outputs, policy pack or rendering.

It prints figures and asserts nothing: it is a measurement, not a test.
"""

from __future__ import annotations

import argparse
import compileall
import datetime as dt
import gc
import importlib.metadata
import importlib.util
import json
import math
import os
import platform
import py_compile
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
DEV_PROJECT = ROOT / "tests" / "data" / "project"
DEV_STACK = "dev"
SIZES = (1, 10, 100, 500, 1000)
QUICK_SIZES = (1, 10, 100)
PER_WORKSPACE = 50
LOCATION = "eastus2"
TAGS = {"managed-by": "pulumi", "pulumi-project": "azure-maas", "pulumi-stack": "bench"}
PLACEHOLDER_ID = "00000000-0000-0000-0000-000000000000"
REPEAT_UNDER = 20.0
"""In a full run, a stack whose first ``maas plan`` takes less than this many seconds is run three times (median):
every stack up to 1,000 deployments, so that one run slowed by other work on the machine does not decide a target
(a plan of 1,000 deployments takes about 4.5 s)."""
COMMAND_RUNS = 5
CHILD = "_child"
MIB = 1024 * 1024

# The issue's targets (issue 17).
DEV_WALL_TARGET = 1.0
BIG = 1000
BIG_WALL_TARGET = 5.0
BIG_RSS_TARGET = 400.0
MARGINAL_FROM, MARGINAL_TO = 500, 1000
MARGINAL_TARGET = 1.5
COMMAND_TARGET = 0.25


# --- the generated stacks and the bare program --------------------------------------------------------------


def model_id(i: int) -> str:
    return f"azureml://registries/azureml-acme/models/model-{i:04d}"


def stack_config(deployments: int) -> dict[str, object]:
    """A hub with one project per 50 deployments; raw partner model IDs, so each needs a subscription."""
    workspaces = []
    for w in range(math.ceil(deployments / PER_WORKSPACE)):
        count = min(PER_WORKSPACE, deployments - w * PER_WORKSPACE)
        start = w * PER_WORKSPACE
        workspaces.append(
            {
                "name": f"proj-{w:02d}",
                "kind": "project",
                "deployments": [{"name": f"ep-{i:04d}", "modelId": model_id(i)} for i in range(start, start + count)],
            }
        )
    return {
        "azure-maas:location": LOCATION,
        "azure-maas:resourceGroup": {"name": "rg-bench", "create": True},
        "azure-maas:hub": {"name": "hub-bench"},
        "azure-maas:workspaces": workspaces,
    }


def bare_program(deployments: int) -> Callable[[], None]:
    """The same Azure resources, registered straight with azure-native: no settings, validation, plan,
    components or outputs."""
    import pulumi
    from pulumi_azure_native import keyvault, resources, storage
    from pulumi_azure_native import machinelearningservices as ml

    def run() -> None:
        rg = resources.ResourceGroup("rg-bench", resource_group_name="rg-bench", location=LOCATION, tags=TAGS)
        account = storage.StorageAccount(
            "hub-bench-storage",
            account_name="sthubbench000000",
            resource_group_name=rg.name,
            location=LOCATION,
            kind=storage.Kind.STORAGE_V2,
            sku=storage.SkuArgs(name=storage.SkuName.STANDARD_LRS),
            tags=TAGS,
        )
        vault = keyvault.Vault(
            "hub-bench-keyvault",
            vault_name="kv-hub-bench-000000",
            resource_group_name=rg.name,
            location=LOCATION,
            properties=keyvault.VaultPropertiesArgs(
                tenant_id=PLACEHOLDER_ID, sku=keyvault.SkuArgs(family="A", name=keyvault.SkuName.STANDARD)
            ),
            tags=TAGS,
        )
        hub = ml.Workspace(
            "hub-bench-workspace",
            workspace_name="hub-bench",
            resource_group_name=rg.name,
            location=LOCATION,
            kind="Hub",
            storage_account=account.id,
            key_vault=vault.id,
            identity=ml.ManagedServiceIdentityArgs(type="SystemAssigned"),
            sku=ml.SkuArgs(name="Basic"),
            tags=TAGS,
        )
        for w in range(math.ceil(deployments / PER_WORKSPACE)):
            project = ml.Workspace(
                f"proj-{w:02d}-workspace",
                workspace_name=f"proj-{w:02d}",
                resource_group_name=rg.name,
                location=LOCATION,
                kind="Project",
                hub_resource_id=hub.id,
                identity=ml.ManagedServiceIdentityArgs(type="SystemAssigned"),
                sku=ml.SkuArgs(name="Basic"),
                tags=TAGS,
            )
            for i in range(w * PER_WORKSPACE, min(deployments, (w + 1) * PER_WORKSPACE)):
                subscription = ml.MarketplaceSubscription(
                    f"ep-{i:04d}-subscription",
                    name=f"model-{i:04d}",
                    resource_group_name=rg.name,
                    workspace_name=project.name,
                    properties=ml.MarketplaceSubscriptionPropertiesArgs(model_id=model_id(i)),
                )
                ml.ServerlessEndpoint(
                    f"ep-{i:04d}-endpoint",
                    name=f"ep-{i:04d}",
                    resource_group_name=rg.name,
                    workspace_name=project.name,
                    location=LOCATION,
                    properties=ml.ServerlessEndpointPropertiesArgs(
                        auth_mode="Key",
                        model_settings=ml.ModelSettingsArgs(model_id=model_id(i)),
                        content_safety=ml.ContentSafetyArgs(content_safety_status="Enabled"),
                    ),
                    sku=ml.SkuArgs(name="Consumption"),
                    tags=TAGS,
                    opts=pulumi.ResourceOptions(depends_on=[subscription], delete_before_replace=True),
                )

    return run


# --- bytecode ---------------------------------------------------------------------------------------------


def has_bytecode(source: str) -> bool:
    """Whether ``source`` has bytecode the import system would use as is (timestamp or hash based)."""
    try:
        cached = importlib.util.cache_from_source(source)
        with open(cached, "rb") as pyc:
            header = pyc.read(16)
        stat = os.stat(source)
    except (OSError, ValueError, NotImplementedError):
        return False
    if len(header) < 16 or header[:4] != importlib.util.MAGIC_NUMBER:
        return False
    if int.from_bytes(header[4:8], "little") & 1:  # hash-based: checked against the source by the importer
        return True
    mtime, size = int.from_bytes(header[8:12], "little"), int.from_bytes(header[12:16], "little")
    return mtime == int(stat.st_mtime) & 0xFFFFFFFF and size == stat.st_size & 0xFFFFFFFF


def source_group(source: str) -> str:
    """``project`` (infra/, policies/), ``venv`` (site-packages) or ``stdlib``."""
    path = Path(source).resolve()
    if path.is_relative_to(ROOT / "infra") or path.is_relative_to(ROOT / "policies"):
        return "project"
    for key in ("purelib", "platlib"):
        if path.is_relative_to(Path(sysconfig.get_path(key)).resolve()):
            return "venv"
    return "stdlib"


def imported_sources() -> list[str]:
    """The source files of the modules imported so far in this process."""
    sources = set()
    for module in list(sys.modules.values()):
        spec = getattr(module, "__spec__", None)
        origin = getattr(spec, "origin", None)
        if isinstance(origin, str) and origin.endswith(".py") and getattr(spec, "cached", None):
            sources.add(origin)
    return sorted(sources)


@dataclass
class Bytecode:
    """Of the modules ``maas plan`` imports, how many have usable bytecode, per group."""

    present: dict[str, int]
    total: dict[str, int]
    missing: list[str]
    write: bool
    """Whether Python writes bytecode in this environment (PYTHONDONTWRITEBYTECODE unset)."""

    @staticmethod
    def of(sources: Iterable[str]) -> Bytecode:
        present = {"project": 0, "venv": 0, "stdlib": 0}
        total = dict.fromkeys(present, 0)
        missing = []
        for source in sources:
            group = source_group(source)
            total[group] += 1
            if has_bytecode(source):
                present[group] += 1
            else:
                missing.append(source)
        return Bytecode(present, total, missing, not os.environ.get("PYTHONDONTWRITEBYTECODE"))

    def line(self) -> str:
        def part(group: str, label: str) -> str:
            return f"{label} {self.present[group]}/{self.total[group]}"

        counts = ", ".join(
            (part("project", "infra/ and policies/"), part("venv", "venv packages"), part("stdlib", "stdlib"))
        )
        state = (
            "PYTHONDONTWRITEBYTECODE is set, so none is written during the run"
            if not self.write
            else "Python writes what is missing on first import (an untimed warm-up run came first)"
        )
        return f"modules with bytecode, of those the maas process imports: {counts}; {state}"


def compile_missing(missing: Iterable[str]) -> int:
    """Write bytecode for ``missing`` (project and venv only) and for the policy pack and its SDK, which run in
    their own process; return how many files were compiled."""
    count = 0
    for source in missing:
        if source_group(source) != "stdlib" and py_compile.compile(source, doraise=False, quiet=2):
            count += 1
    spec = importlib.util.find_spec("pulumi_policy")
    for directory in (ROOT / "policies", Path(spec.origin).parent if spec and spec.origin else None):
        if directory is not None:
            compileall.compile_dir(directory, quiet=2, workers=os.cpu_count() or 1)
    return count


# --- children: phases and the bare program ----------------------------------------------------------------


def child_phases(directory: Path, stack: str, out: Path, bytecode: bool) -> None:
    """Import the CLI, preview ``stack`` and render the JSON document as ``maas plan`` does (no cyclic collector,
    the pack started before the engine is imported); write the phases to ``out``."""
    gc.disable()  # as infra.cli.app.run
    started = time.perf_counter()
    import infra.cli.app  # noqa: F401 - the console script's module, imported as `maas` imports it
    from infra.engine import pack_process
    from infra.engine.stack_files import read_project

    with pack_process.preview_pack(read_project(directory).name, stack) as pack:
        from infra.cli.render import plan as render
        from infra.engine.preview import run_preview

        figures: dict[str, Any] = {"import": time.perf_counter() - started}
        result = run_preview(directory, stack, pack=pack)
    figures["timings"] = dict(result.timings)
    figures["resources"] = len(result.resources)
    figures["custom"] = sum(1 for r in result.resources if r.custom)
    try:
        rendering = time.perf_counter()
        document = render.to_json(render.PlanView(result, stack, directory))
        figures["render"] = time.perf_counter() - rendering
        figures["bytes"] = len(document)
    except Exception as error:  # the renderer's signature changed under us: say so, keep the other figures
        figures["render"] = None
        figures["renderError"] = f"{type(error).__name__}: {error}"
    if bytecode:
        figures["sources"] = imported_sources()
    out.write_text(json.dumps(figures))


def child_bare(deployments: int, out: Path) -> None:
    """Register the bare program's resources under the SDK's standard mocks; write what it counted to ``out``."""
    started = time.perf_counter()
    import pulumi

    run = bare_program(deployments)  # imports the azure-native modules
    imported = time.perf_counter() - started

    class Mocks(pulumi.runtime.Mocks):
        def __init__(self) -> None:
            self.custom: list[str] = []

        def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
            if args.custom:
                self.custom.append(args.name)
            return f"{args.name}-id", dict(args.inputs)

        def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
            return {}

    mocks = Mocks()
    registering = time.perf_counter()
    pulumi.runtime.set_mocks(mocks, project="azure-maas", stack="bench", preview=True)
    pulumi.runtime.test(run)()  # type: ignore[no-untyped-call]  # runs the program and waits for every RPC
    figures = {"import": imported, "register": time.perf_counter() - registering, "custom": len(mocks.custom)}
    out.write_text(json.dumps(figures))


def child(argv: Sequence[str]) -> None:
    kind, out = argv[0], Path(argv[1])
    if kind == "phases":
        child_phases(Path(argv[2]), argv[3], out, bytecode=argv[4] == "bytecode")
    elif kind == "bare":
        child_bare(int(argv[2]), out)
    else:
        raise SystemExit(f"unknown child {kind!r}")


# --- measuring processes ----------------------------------------------------------------------------------


@dataclass
class Run:
    wall: float
    cpu: float
    rss_mib: float
    code: int
    stderr: str


def measure(argv: Sequence[str], cwd: Path, stdout: Path | None = None) -> Run:
    """Run ``argv`` in ``cwd``; wall time around the process, CPU (user + sys) and peak RSS from ``os.wait4``."""
    with tempfile.TemporaryFile() as errors, open(stdout or os.devnull, "wb") as output:
        started = time.perf_counter()
        process = subprocess.Popen(argv, cwd=cwd, stdin=subprocess.DEVNULL, stdout=output, stderr=errors)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        errors.seek(0)
        text = errors.read().decode(errors="replace")
    # ru_maxrss is in KiB on Linux, in bytes on macOS.
    rss = usage.ru_maxrss / MIB if sys.platform == "darwin" else usage.ru_maxrss / 1024
    return Run(wall, usage.ru_utime + usage.ru_stime, rss, process.returncode, text)


def last_line(text: str) -> str:
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else "(no output on stderr)"


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


@dataclass
class Figures:
    """One stack's row."""

    stack: str
    deployments: int | None = None
    resources: int | None = None
    custom: int | None = None
    runs: int = 0
    wall: float | None = None
    cpu: float | None = None
    rss_mib: float | None = None
    phases: dict[str, float | None] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    bare: dict[str, float | None] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)


def run_child(argv: Sequence[str], scratch: Path) -> tuple[Run, dict[str, Any] | None]:
    out = scratch / "child.json"
    out.unlink(missing_ok=True)
    run = measure([sys.executable, str(Path(__file__).resolve()), CHILD, argv[0], str(out), *argv[1:]], ROOT)
    if run.code != 0 or not out.is_file():
        return run, None
    figures: dict[str, Any] = json.loads(out.read_text())
    return run, figures


def plan_runs(maas: Path, directory: Path, stack: str, repeats: int, scratch: Path, row: Figures) -> None:
    """``maas plan`` as a subprocess: once, and ``repeats`` times in all when the first run is short."""
    output = scratch / "plan.json"
    runs: list[Run] = []
    while True:
        run = measure([str(maas), "plan", "--stack", stack, "--format", "json"], directory, output)
        # 1 is also mandatory policy violations (a plan all the same): the JSON document tells them apart.
        if run.code not in (0, 1) or (not runs and not read_plan(output, row)):
            row.errors.append(f"maas plan exited {run.code}: {last_line(run.stderr)}")
            return
        runs.append(run)
        if len(runs) >= repeats or runs[0].wall >= REPEAT_UNDER:
            break
    row.runs = len(runs)
    row.wall = statistics.median(r.wall for r in runs)
    row.cpu = statistics.median(r.cpu for r in runs)
    row.rss_mib = statistics.median(r.rss_mib for r in runs)


def read_plan(output: Path, row: Figures) -> bool:
    """Count the resources (and deployments, for the dev stack) in maas plan's JSON document; False without one."""
    try:
        document = json.loads(output.read_text())
        resources = document["resources"]
        row.resources = len(resources)
        row.custom = sum(1 for r in resources if r.get("custom"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False
    if row.deployments is None:
        row.deployments = len(document.get("modelSlots") or []) + len(document.get("foundryDeployments") or [])
    return True


def phase_run(directory: Path, stack: str, scratch: Path, row: Figures) -> None:
    run, figures = run_child(["phases", str(directory), stack, "-"], scratch)
    if figures is None:
        row.errors.append(f"phases child exited {run.code}: {last_line(run.stderr)}")
        return
    timings: dict[str, float] = figures["timings"]
    row.timings = timings
    row.phases = {
        "import": figures["import"],
        "config": timings.get("config"),
        "program": timings.get("program"),
        "analyze": timings.get("policy", timings.get("analyze")),
        "render": figures["render"],
    }
    if figures.get("renderError"):
        row.errors.append(f"render: {figures['renderError']}")
    if row.resources is None:
        row.resources, row.custom = figures["resources"], figures["custom"]
    elif (row.resources, row.custom) != (figures["resources"], figures["custom"]):
        row.errors.append(
            f"run_preview counted {figures['resources']} resources ({figures['custom']} custom), "
            f"maas plan {row.resources} ({row.custom})"
        )


def bare_run(deployments: int, scratch: Path, row: Figures) -> None:
    run, figures = run_child(["bare", str(deployments)], scratch)
    if figures is None:
        row.errors.append(f"bare child exited {run.code}: {last_line(run.stderr)}")
        return
    row.bare = {
        "wall": run.wall,
        "cpu": run.cpu,
        "rssMiB": run.rss_mib,
        "import": figures["import"],
        "register": figures["register"],
        "custom": figures["custom"],
    }
    if row.custom is not None and figures["custom"] != row.custom:
        row.errors.append(f"the bare program registered {figures['custom']} custom resources, maas {row.custom}")


def write_project(directory: Path, stack: str, deployments: int) -> None:
    directory.mkdir()
    (directory / "Pulumi.yaml").write_bytes((ROOT / "Pulumi.yaml").read_bytes())
    (directory / f"Pulumi.{stack}.yaml").write_text(yaml.safe_dump({"config": stack_config(deployments)}))


def command_time(maas: Path, args: Sequence[str], runs: int) -> tuple[float | None, str | None]:
    walls = []
    for _ in range(runs):
        run = measure([str(maas), *args], ROOT)
        if run.code != 0:
            return None, f"maas {' '.join(args)} exited {run.code}: {last_line(run.stderr)}"
        walls.append(run.wall)
    return statistics.median(walls), None


# --- the machine ------------------------------------------------------------------------------------------


def version(distribution: str) -> str:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return "not installed"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def memory_total() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError, IndexError):
        pass
    return "unknown"


def git_revision() -> str:
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head} with uncommitted changes" if dirty else head


def sources_state() -> list[tuple[str, int, int]]:
    """Every source file of the code measured, with its mtime and size: a change during the run is reported."""
    return sorted(
        (str(path.relative_to(ROOT)), path.stat().st_mtime_ns, path.stat().st_size)
        for top in ("infra", "policies")
        for path in (ROOT / top).rglob("*")
        if path.suffix in {".py", ".json", ".yaml"} and "__pycache__" not in path.parts
    )


def machine() -> dict[str, Any]:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return {
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "usableCpus": usable,
        "memory": memory_total(),
        "os": platform.platform(),
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "pulumi": version("pulumi"),
        "pulumiAzureNative": version("pulumi-azure-native"),
        "pulumiPolicy": version("pulumi-policy"),
        "commit": git_revision(),
        "loadStart": os.getloadavg()[0],
    }


# --- the report -------------------------------------------------------------------------------------------


def marginal(rows: Sequence[Figures]) -> dict[str, Any] | None:
    """Wall time per resource between the two largest generated stacks (the issue's are 500 and 1,000)."""
    measured = sorted(
        (r for r in rows if r.stack != DEV_STACK and r.wall is not None and r.resources is not None),
        key=lambda r: r.resources or 0,
    )
    by_deployments = {r.deployments: r for r in measured}
    if MARGINAL_FROM in by_deployments and MARGINAL_TO in by_deployments:
        low, high = by_deployments[MARGINAL_FROM], by_deployments[MARGINAL_TO]
    elif len(measured) >= 2:
        low, high = measured[-2], measured[-1]
    else:
        return None
    if low.wall is None or high.wall is None or low.cpu is None or high.cpu is None:
        return None
    if not low.resources or not high.resources or high.resources == low.resources:
        return None
    return {
        "fromDeployments": low.deployments,
        "toDeployments": high.deployments,
        "fromResources": low.resources,
        "toResources": high.resources,
        "msPerResource": 1000 * (high.wall - low.wall) / (high.resources - low.resources),
        "cpuMsPerResource": 1000 * (high.cpu - low.cpu) / (high.resources - low.resources),
    }


@dataclass
class Target:
    name: str
    value: float | None
    limit: float
    unit: str
    note: str = ""

    @property
    def verdict(self) -> str:
        if self.value is None:
            return "not measured"
        return "ok" if self.value < self.limit else "over"


def targets(
    rows: Sequence[Figures], slope: dict[str, Any] | None, help_s: float | None, models_s: float | None
) -> list[Target]:
    dev = next((r for r in rows if r.stack == DEV_STACK), None)
    big = next((r for r in rows if r.stack != DEV_STACK and r.deployments == BIG), None)
    # The issue's marginal cost is between 500 and 1,000 deployments; between other sizes it is shown, not judged.
    issue_slope = (
        slope
        if slope is not None and (slope["fromDeployments"], slope["toDeployments"]) == (MARGINAL_FROM, MARGINAL_TO)
        else None
    )
    return [
        Target("dev stack: maas plan wall", dev.wall if dev else None, DEV_WALL_TARGET, "s"),
        Target("1,000 deployments: maas plan wall", big.wall if big else None, BIG_WALL_TARGET, "s"),
        Target("1,000 deployments: maas plan peak RSS", big.rss_mib if big else None, BIG_RSS_TARGET, "MiB"),
        Target(
            "marginal wall per resource (500 to 1,000)",
            issue_slope["msPerResource"] if issue_slope else None,
            MARGINAL_TARGET,
            "ms",
            "" if issue_slope else "needs stacks of 500 and 1,000 deployments",
        ),
        Target("maas --help wall", help_s, COMMAND_TARGET, "s"),
        Target("maas models wall", models_s, COMMAND_TARGET, "s"),
    ]


def cell(value: float | None, width: int, digits: int = 2) -> str:
    return f"{'-':>{width}}" if value is None else f"{value:>{width}.{digits}f}"


def ratio(ours: float | None, bare: float | None, width: int) -> str:
    return f"{'-':>{width}}" if ours is None or not bare else f"{ours / bare:>{width}.1f}"


def table(rows: Sequence[Figures]) -> list[str]:
    lines = [
        f"{'':34}| {'maas plan (subprocess)':^29} | {'phases in-process, seconds':^32} | "
        f"{'bare azure-native':^22}| {'maas ÷ bare':^15}",
        f"{'stack':<10} {'deploys':>7} {'resources':>9} {'custom':>6} "
        f"| {'wall s':>6} {'CPU s':>6} {'RSS MiB':>7} {'ms/res':>6} "
        f"| {'import':>6} {'config':>6} {'program':>7} {'analyze':>7} {'render':>6} "
        f"| {'wall s':>6} {'CPU s':>6} {'RSS MiB':>7} "
        f"| {'wall':>4} {'CPU':>4} {'RSS':>5}",
    ]
    for r in rows:
        p, b = r.phases, r.bare
        per_resource = 1000 * r.wall / r.resources if r.wall is not None and r.resources else None
        lines.append(
            f"{r.stack:<10} {'-' if r.deployments is None else f'{r.deployments:,}':>7} "
            f"{'-' if r.resources is None else f'{r.resources:,}':>9} {'-' if r.custom is None else f'{r.custom:,}':>6} "
            f"| {cell(r.wall, 6)} {cell(r.cpu, 6)} {cell(r.rss_mib, 7, 0)} {cell(per_resource, 6, 1)} "
            f"| {cell(p.get('import'), 6)} {cell(p.get('config'), 6)} {cell(p.get('program'), 7)} "
            f"{cell(p.get('analyze'), 7)} {cell(p.get('render'), 6)} "
            f"| {cell(b.get('wall'), 6)} {cell(b.get('cpu'), 6)} {cell(b.get('rssMiB'), 7, 0)} "
            f"| {ratio(r.wall, b.get('wall'), 4)} {ratio(r.cpu, b.get('cpu'), 4)} {ratio(r.rss_mib, b.get('rssMiB'), 5)}"
        )
    return lines


def header(info: dict[str, Any], bytecode: Bytecode | None) -> list[str]:
    return [
        "maas plan benchmark",
        f"date: {info['date']}   commit: {info['commit']}",
        f"machine: {info['cpu']}, {info['cpus']} CPUs ({info['usableCpus']} usable), {info['memory']} RAM; "
        f"{info['os']}",
        f"software: {info['python']}, pulumi {info['pulumi']}, pulumi-azure-native {info['pulumiAzureNative']}, "
        f"pulumi-policy {info['pulumiPolicy']}",
        f"bytecode: {bytecode.line() if bytecode else 'not checked (the warm-up run failed)'}",
        f"load average (1 min) at the start: {info['loadStart']:.2f}; other work on the machine skews wall times "
        "more than CPU times",
    ]


def report(
    info: dict[str, Any],
    rows: Sequence[Figures],
    slope: dict[str, Any] | None,
    commands: dict[str, float | None],
    commands_runs: int,
    goals: Sequence[Target],
    notes: Sequence[str],
) -> list[str]:
    lines = [
        "",
        *table(rows),
        "",
        "wall, CPU (user+sys) and peak RSS: `maas plan --stack <s> --format json` as a subprocess (CPU includes the",
        "policy-pack and relay processes; RSS is the largest of the three), median of 3 runs where one takes under",
        f"{REPEAT_UNDER:g} s, else one run; ms/res = wall / resources (startup included; the marginal cost below leaves",
        "it out).",
        "phases: a child process running run_preview and the JSON renderer (import = the CLI's modules; analyze = the",
        "policy pack: its start and its Analyze calls overlap the program, so this is the wait after the program).",
        "bare: the same custom resources registered with azure-native under pulumi.runtime.set_mocks and a minimal",
        "Mocks, in a child process (its own interpreter start and imports); maas ÷ bare compares whole processes.",
    ]
    program_vs_bare = []
    for r in rows:
        program, register = r.phases.get("program"), r.bare.get("register")
        if program is not None and register:
            program_vs_bare.append(f"{r.stack} {program / register:.1f}")
    if program_vs_bare:
        lines += [
            "",
            "in-process program phase ÷ the bare program's registration time (both after imports): "
            + ", ".join(program_vs_bare),
        ]
    if slope is not None:
        lines += [
            "",
            f"marginal cost: {slope['msPerResource']:.2f} ms of wall time per resource = the slope of maas plan's wall "
            f"time between {slope['fromDeployments']:,} and {slope['toDeployments']:,} deployments, divided by the "
            f"resource-count difference ({slope['toResources']:,} - {slope['fromResources']:,} resources); "
            f"in CPU time, {slope['cpuMsPerResource']:.2f} ms per resource",
        ]
    lines += [
        "",
        f"commands, wall time as a subprocess, median of {commands_runs} runs: "
        f"maas --help {cell(commands.get('help'), 0)} s, maas models {cell(commands.get('models'), 0)} s",
        f"load average (1 min) at the end: {info['loadEnd']:.2f}",
        "",
        "targets (issue 17):",
    ]
    for goal in goals:
        value = "-" if goal.value is None else f"{goal.value:.{0 if goal.unit == 'MiB' else 2}f} {goal.unit}"
        note = f"  ({goal.note})" if goal.note else ""
        limit = f"< {goal.limit:g} {goal.unit}"
        lines.append(f"  {goal.name:<42} {value:>11}  {limit:<11} {goal.verdict}{note}")
    if notes:
        lines += ["", "problems:", *(f"  {n}" for n in notes)]
    return lines


# --- main -------------------------------------------------------------------------------------------------


def parse_sizes(text: str) -> tuple[int, ...]:
    try:
        sizes = tuple(sorted({int(part) for part in text.split(",") if part.strip()}))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a comma-separated list of numbers") from None
    if not sizes or sizes[0] < 1:
        raise argparse.ArgumentTypeError("sizes are numbers of deployments, 1 or more")
    return sizes


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == CHILD:
        child(argv[1:])
        return 0
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"one run of everything, generated stacks of {', '.join(map(str, QUICK_SIZES))} deployments "
        "unless --sizes says otherwise",
    )
    parser.add_argument(
        "--sizes",
        type=parse_sizes,
        metavar="N,N,...",
        help=f"numbers of deployments of the generated stacks (default: {','.join(map(str, SIZES))})",
    )
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON document instead")
    parser.add_argument(
        "--compile",
        action="store_true",
        help="first write the bytecode missing for the modules maas plan imports (and the policy pack's), as a "
        "machine has after its first run, and measure with it",
    )
    args = parser.parse_args(argv)
    sizes: tuple[int, ...] = args.sizes or (QUICK_SIZES if args.quick else SIZES)
    repeats = 1 if args.quick else 3
    maas = Path(sysconfig.get_path("scripts")) / "maas"
    if not maas.is_file():
        raise SystemExit(f"{maas} not found: run `uv sync` first, then this script with `uv run`")

    info = machine()
    before = sources_state()
    notes: list[str] = []
    rows: list[Figures] = []
    with tempfile.TemporaryDirectory(prefix="maas-bench-") as tmp:
        scratch = Path(tmp)
        # An untimed warm-up (page cache, and bytecode where Python writes it) that also lists what maas imports.
        progress("warm-up: the dev stack's phases, listing the modules maas imports")
        warm, warm_figures = run_child(["phases", str(DEV_PROJECT), DEV_STACK, "bytecode"], scratch)
        bytecode: Bytecode | None = None
        if warm_figures is None:
            notes.append(f"warm-up: exited {warm.code}: {last_line(warm.stderr)}")
        else:
            bytecode = Bytecode.of(warm_figures["sources"])
            if args.compile:
                progress(f"compiling bytecode for {len(bytecode.missing)} modules, the policy pack and its SDK")
                compile_missing(bytecode.missing)
                bytecode = Bytecode.of(warm_figures["sources"])
        if not args.json:
            print("\n".join(header(info, bytecode)), flush=True)

        stacks: list[tuple[str, Path, int | None]] = [(DEV_STACK, DEV_PROJECT, None)]
        for size in sizes:
            name = f"gen-{size}"
            directory = scratch / name
            write_project(directory, name, size)
            stacks.append((name, directory, size))
        for name, directory, deployments in stacks:
            row = Figures(name, deployments=deployments)
            progress(f"{name}: maas plan")
            plan_runs(maas, directory, name, repeats, scratch, row)
            progress(f"{name}: phases")
            phase_run(directory, name, scratch, row)
            if deployments is not None:
                progress(f"{name}: bare program")
                bare_run(deployments, scratch, row)
            notes += [f"{name}: {e}" for e in row.errors]
            rows.append(row)

    progress("maas --help, maas models")
    runs = 3 if args.quick else COMMAND_RUNS
    commands: dict[str, float | None] = {}
    for key, command in (("help", ["--help"]), ("models", ["models"])):
        commands[key], problem = command_time(maas, command, runs)
        if problem:
            notes.append(problem)
    info["loadEnd"] = os.getloadavg()[0]
    changed = sorted({name for name, *_ in set(sources_state()) ^ set(before)})
    if changed:
        notes.append(
            f"infra/ or policies/ changed during the run, so rows may measure different code: {', '.join(changed)}"
        )
    slope = marginal(rows)
    goals = targets(rows, slope, commands["help"], commands["models"])
    if args.json:
        document = {
            "machine": info,
            "bytecode": None
            if bytecode is None
            else {"present": bytecode.present, "total": bytecode.total, "written": bytecode.write},
            "compiled": args.compile,
            "stacks": [
                {("rssMiB" if k == "rss_mib" else k): v for k, v in asdict(r).items() if k != "errors"} for r in rows
            ],
            "marginal": slope,
            "commands": commands,
            "targets": [{**asdict(g), "verdict": g.verdict} for g in goals],
            "problems": notes,
        }
        print(json.dumps(document, indent=2))
    else:
        print("\n".join(report(info, rows, slope, commands, runs, goals, notes)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
