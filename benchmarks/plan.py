"""Benchmark of ``maas plan``: wall time of the command for 1, 10, 100 and 500 deployments, and the program's
own cost against a bare azure-native program registering the same resources under the same capturing engine.

Run from the repository root:

    uv run python benchmarks/plan.py            # all figures (about three minutes on 2 cores)
    uv run python benchmarks/plan.py --quick    # fewer repetitions

It prints figures and ratios and asserts nothing: it is a measurement, not a test. Targets (2 cores): the dev
stack plans in under 3 s wall; the program costs at most 1.15 times the bare program; time grows linearly.
"""

from __future__ import annotations

import argparse
import compileall
import gc
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pulumi
import yaml
from pulumi_azure_native import keyvault, resources, storage
from pulumi_azure_native import machinelearningservices as ml

from infra import program
from infra.engine.capture import PreviewMocks, capture
from infra.engine.preview import PLACEHOLDER_ID, Identity, offline_calls

ROOT = Path(__file__).resolve().parents[1]
SIZES = (1, 10, 100, 500)
PER_WORKSPACE = 50
LOCATION = "eastus2"
TAGS = {"managed-by": "pulumi", "pulumi-project": "azure-maas", "pulumi-stack": "bench"}


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


def flat(config: dict[str, object]) -> dict[str, str]:
    return {k: v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}


def bare_program(deployments: int) -> Callable[[], None]:
    """The same Azure resources, registered straight with azure-native: no settings, validation, plan,
    components or outputs."""

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


def timed_capture(run: Callable[[], None], config: dict[str, str]) -> tuple[float, int]:
    mocks = PreviewMocks(offline_calls(Identity(PLACEHOLDER_ID, PLACEHOLDER_ID, "placeholder")))
    gc.collect()  # the previous run's garbage (event loop, threads) would otherwise be collected during this one
    started = time.perf_counter()
    captured, error = capture(run, project="azure-maas", stack="bench", config=config, mocks=mocks, preview=True)
    elapsed = time.perf_counter() - started
    if error is not None:
        raise error
    return elapsed, sum(1 for r in captured.resources if r.custom)


def program_ratio(sizes: tuple[int, ...], rounds: int) -> None:
    print("\nProgram cost against a bare azure-native program (same custom resources, same capturing engine,")
    print(f"in this process; best of {rounds} interleaved rounds, seconds):")
    print(f"{'deployments':>12} {'resources':>10} {'azure-maas':>11} {'bare':>8} {'ratio':>7}")
    for size in sizes:
        config = flat(stack_config(size))
        ours, bare = [], []
        count = 0
        for _ in range(rounds):
            t, count = timed_capture(program.main, config)
            ours.append(t)
            t, bare_count = timed_capture(bare_program(size), config)
            bare.append(t)
            assert bare_count == count, (bare_count, count)
        print(f"{size:>12} {count:>10} {min(ours):>11.3f} {min(bare):>8.3f} {min(ours) / min(bare):>7.2f}")


def write_project(directory: Path, deployments: int) -> None:
    shutil.copy(ROOT / "Pulumi.yaml", directory / "Pulumi.yaml")
    (directory / "Pulumi.bench.yaml").write_text(yaml.safe_dump({"config": stack_config(deployments)}))


def wall(args: list[str], cwd: Path) -> float:
    started = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} exited {done.returncode}: {done.stderr.strip()}")
    return elapsed


def command_times(sizes: tuple[int, ...], repeats: int) -> None:
    maas = str(Path(sys.executable).with_name("maas"))
    print(f"\n`maas plan` wall time, a new process each run (dev stack: median of {repeats}; sizes: one run; seconds):")
    dev = statistics.median(wall([maas, "plan", "--stack", "dev", "--format", "json"], ROOT) for _ in range(repeats))
    print(f"{'dev stack':>12} {dev:>8.2f}   target < 3 s: {'met' if dev < 3 else 'MISSED'}")
    print(f"{'deployments':>12} {'wall':>8} {'per deployment (ms)':>21} {'ratio to previous size':>24}")
    previous: tuple[int, float] | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for size in sizes:
            directory = Path(tmp) / f"n{size}"
            directory.mkdir()
            write_project(directory, size)
            elapsed = wall([maas, "plan", "--stack", "bench", "--format", "json"], directory)
            ratio = f"{elapsed / previous[1]:.2f} for {size / previous[0]:g}x" if previous else ""
            print(f"{size:>12} {elapsed:>8.2f} {1000 * elapsed / size:>21.1f} {ratio:>24}")
            previous = (size, elapsed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repetitions (one dev run, best of 2 rounds)")
    args = parser.parse_args()
    repeats = 1 if args.quick else 3
    print(f"Python {sys.version.split()[0]} on {os.cpu_count()} CPUs")
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        # Every import would compile from source each run; a normal machine caches bytecode after the first.
        # Compile the installed packages once so the figures show that steady state.
        site = Path(pulumi.__file__).parents[1]
        started = time.perf_counter()
        azure = [
            f"pulumi_azure_native/{m}"
            for m in ("machinelearningservices", "storage", "keyvault", "authorization", "resources")
        ]
        for package in (
            "pulumi",
            "pulumi_policy",
            "grpc",
            "google",
            "rich",
            "pydantic",
            "pydantic_core",
            "pydantic_settings",
            "yaml",
            "jsonschema",
            "referencing",
            *azure,
        ):
            compileall.compile_dir(site / package, quiet=1, workers=os.cpu_count() or 1)
        compileall.compile_dir(site / "pulumi_azure_native", maxlevels=0, quiet=1)
        print(
            f"(PYTHONDONTWRITEBYTECODE is set: compiled installed packages once, {time.perf_counter() - started:.0f} s)"
        )
    command_times(SIZES, repeats)
    program_ratio(SIZES, 2 if args.quick else 3)


if __name__ == "__main__":
    main()
