"""The azure-native packages load lean (``infra.azure_native``): the program loads only the modules it uses, and
every name resolves to the object the package's own ``__init__`` exports. Each case runs in a fresh interpreter,
so nothing another test imported hides a module."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from typing import Any

from infra import azure_native
from tests.conftest import PROJECT, ROOT


def fresh(code: str) -> Any:
    """What ``code``, run in a fresh interpreter from the repository root, prints as JSON on its last line."""
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


LOADED = """
import json, sys
from pathlib import Path
from infra.engine.preview import run_preview
for stack in ("dev", "foundry"):
    run_preview(Path({project!r}), stack)
print(json.dumps(sorted(m for m in sys.modules if m.startswith("pulumi_azure_native.") and m.count(".") == 2)))
"""


def test_a_plan_of_both_channels_loads_only_the_modules_the_program_uses() -> None:
    shared = ["_enums", "_inputs", "outputs"]
    expected = {
        "authorization": [*shared, "get_client_config", "role_assignment", "role_definition"],
        "cognitiveservices": [*shared, "account", "deployment", "project", "rai_policy"],
        "keyvault": [*shared, "vault"],
        "machinelearningservices": [
            *shared,
            "list_serverless_endpoint_keys",
            "marketplace_subscription",
            "serverless_endpoint",
            "workspace",
        ],
        "resources": ["_enums", "outputs", "resource_group"],
        "storage": [*shared, "storage_account"],
    }
    loaded = fresh(LOADED.format(project=str(PROJECT)))
    assert loaded == sorted(f"pulumi_azure_native.{p}.{m}" for p, modules in expected.items() for m in modules)


def names_used() -> dict[str, list[str]]:
    """Per package, every name the program's modules look up in it (``ml.ServerlessEndpoint``)."""
    used: dict[str, set[str]] = {package: set() for package in azure_native.PACKAGES}
    for path in [ROOT / "infra" / "program.py", *sorted((ROOT / "infra" / "components").glob("*.py"))]:
        tree = ast.parse(path.read_text(encoding="utf-8"))
        aliases = {
            alias.asname or alias.name: alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module == "infra.azure_native"
            for alias in node.names
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in aliases:
                used[aliases[node.value.id]].add(node.attr)
    return {package: sorted(names) for package, names in used.items()}


RESOLVED = """
import json
from infra import azure_native
used = json.loads({used!r})
report = {{}}
for package, names in used.items():
    lean = getattr(azure_native, package)
    values = {{name: getattr(lean, name) for name in names}}
    lean_only = not lean.__dict__.get("_lean_loaded_all")
    lean.load_all()
    report[package] = [lean_only, [name for name in names if values[name] is not vars(lean)[name]]]
print(json.dumps(report))
"""


def test_every_name_the_program_uses_is_the_packages_own_object_found_without_loading_the_package() -> None:
    used = names_used()
    assert sum(map(len, used.values())) >= 30  # the scan finds the program's names
    assert used["machinelearningservices"][:3] == [
        "ContentSafetyArgs",
        "ContentSafetyStatus",
        "ManagedServiceIdentityArgs",
    ]
    report = fresh(RESOLVED.format(used=json.dumps(used)))
    assert report == {package: [True, []] for package in azure_native.PACKAGES}


WHOLE = """
import json, sys
from infra.azure_native import machinelearningservices as ml
loaded_before = "pulumi_azure_native.machinelearningservices.batch_deployment" in sys.modules
try:
    ml.NoSuchThing
except AttributeError as error:
    message = str(error)
exported = ml.__all__ if hasattr(ml, "__all__") else None
print(json.dumps([loaded_before, message, "pulumi_azure_native.machinelearningservices.batch_deployment" in sys.modules,
                  ml.__dict__.get("_lean_loaded_all"), "ServerlessEndpoint" in vars(ml), ml.compute.__name__]))
"""


def test_a_name_no_module_defines_loads_the_whole_package_then_is_an_attribute_error() -> None:
    assert fresh(WHOLE) == [
        False,
        "module 'pulumi_azure_native.machinelearningservices' has no attribute 'NoSuchThing'",
        True,
        True,
        True,
        "pulumi_azure_native.machinelearningservices.compute",
    ]


FULL_FIRST = """
import json, sys
import pulumi_azure_native.storage as storage
storage.StorageAccount  # the SDK's lazy module, loaded in full
from infra import azure_native
print(json.dumps([type(azure_native.storage).__name__, azure_native.storage is storage,
                  type(azure_native.keyvault).__name__]))
"""


def test_a_package_loaded_in_full_before_is_left_as_it_is() -> None:
    assert fresh(FULL_FIRST) == ["module", True, "LeanPackage"]


def test_names_map_to_the_modules_the_generator_writes_them_in() -> None:
    shared = ["_enums", "_inputs", "outputs"]
    assert azure_native.module_candidates("RoleAssignment") == ["role_assignment", *shared]
    assert azure_native.module_candidates("ServerlessEndpointArgs") == [
        "serverless_endpoint_args",
        "serverless_endpoint",
        *shared,
    ]
    assert azure_native.module_candidates("list_serverless_endpoint_keys_output") == [
        "list_serverless_endpoint_keys_output",
        "list_serverless_endpoint_keys",
        *shared,
    ]
    assert azure_native.module_candidates("AwaitableGetVaultResult") == [
        "awaitable_get_vault_result",
        "get_vault",
        *shared,
    ]
    assert azure_native.module_candidates("outputs") == ["outputs", "_enums", "_inputs"]
