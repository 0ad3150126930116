"""Run the real program under Pulumi's mocks and record what the engine would see.

A :class:`RecordingMonitor` wraps Pulumi's ``MockMonitor`` and keeps, for every registration, the type,
name, parent, dependencies, property dependencies, options and inputs; for every invoke, its token and
arguments; and the stack outputs with their secret markers.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi.runtime
from pulumi.output import Unknown
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor
from pulumi.runtime.stack import run_in_stack

from infra import program

PROJECT = "azure-maas"
SUBSCRIPTION_ID = "11111111-2222-3333-4444-555555555555"
TENANT_ID = "99999999-8888-7777-6666-555555555555"
TODAY = dt.date(2026, 11, 23)
SIG_KEY = rpc._special_sig_key
SECRET_SIG = rpc._special_secret_sig


@dataclass
class Registration:
    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    delete_before_replace: bool
    inputs: dict[str, Any]


@dataclass
class Run:
    resources: list[Registration] = field(default_factory=list)
    invokes: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Registration]:
        return [r for r in self.resources if r.type == type_]

    def by_name(self, name: str) -> Registration:
        matches = [r for r in self.resources if r.name == name]
        assert len(matches) == 1, f"{len(matches)} resources named {name!r}: {[r.urn for r in matches]}"
        return matches[0]

    def by_urn(self, urn: str) -> Registration:
        return next(r for r in self.resources if r.urn == urn)


class AzureMocks(pulumi.runtime.Mocks):
    """Azure-shaped IDs and read-only outputs for the resource types the program creates.

    With ``preview``, resources answer as the engine answers a preview of their creation: no ID, and the
    inputs as the only known outputs, so every computed output (IDs, names, URIs) is unknown."""

    def __init__(self, *, preview: bool = False) -> None:
        self.preview = preview

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        inputs = dict(args.inputs)
        if self.preview:
            return None, inputs
        name = (
            (inputs.get("resourceGroupName") if args.typ.endswith(":ResourceGroup") else None)
            or inputs.get("workspaceName")
            if args.typ.endswith(":Workspace")
            else None
        )
        name = (
            name
            or inputs.get("name")
            or inputs.get("accountName")
            or inputs.get("vaultName")
            or inputs.get("roleAssignmentName")
            or inputs.get("roleDefinitionId")
            or args.name
        )
        rg = inputs.get("resourceGroupName", "rg")
        base = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{rg}/providers"
        ids = {
            "azure-native:resources:ResourceGroup": f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/{name}",
            "azure-native:storage:StorageAccount": f"{base}/Microsoft.Storage/storageAccounts/{name}",
            "azure-native:keyvault:Vault": f"{base}/Microsoft.KeyVault/vaults/{name}",
            "azure-native:machinelearningservices:Workspace": f"{base}/Microsoft.MachineLearningServices/workspaces/{name}",
            "azure-native:machinelearningservices:MarketplaceSubscription": f"{base}/Microsoft.MachineLearningServices/workspaces/{inputs.get('workspaceName')}/marketplaceSubscriptions/{name}",
            "azure-native:machinelearningservices:ServerlessEndpoint": f"{base}/Microsoft.MachineLearningServices/workspaces/{inputs.get('workspaceName')}/serverlessEndpoints/{name}",
            "azure-native:authorization:RoleDefinition": f"/subscriptions/{SUBSCRIPTION_ID}/providers/Microsoft.Authorization/roleDefinitions/{name}",
            "azure-native:authorization:RoleAssignment": f"{inputs.get('scope')}/providers/Microsoft.Authorization/roleAssignments/{name}",
        }
        state = {**inputs, "name": name}
        if args.typ == "azure-native:machinelearningservices:ServerlessEndpoint":
            properties = dict(inputs.get("properties", {}))
            properties["inferenceEndpoint"] = {
                "uri": f"https://{name}.{inputs.get('location')}.models.ai.azure.com",
                "headers": {},
            }
            properties["provisioningState"] = "Succeeded"
            state["properties"] = properties
        resource_id = ids.get(args.typ) if args.custom else None
        return (resource_id or (f"{args.name}_id" if args.custom else None)), state

    def call(self, args: pulumi.runtime.MockCallArgs) -> dict[str, Any]:  # type: ignore[override]
        if args.token == "azure-native:authorization:getClientConfig":
            return {
                "clientId": "cccccccc-0000-0000-0000-000000000000",
                "objectId": "dddddddd-0000-0000-0000-000000000000",
                "subscriptionId": SUBSCRIPTION_ID,
                "tenantId": TENANT_ID,
            }
        if args.token == "azure-native:machinelearningservices:listServerlessEndpointKeys":
            return {"primaryKey": f"pk-{args.args['name']}", "secondaryKey": f"sk-{args.args['name']}"}
        raise AssertionError(f"unexpected invoke {args.token}")


def _plain(value: Any) -> Any:
    """Inputs as the engine sends them to analyzers: plain JSON, an unknown value as ``rpc.UNKNOWN``."""
    if isinstance(value, Unknown):
        return rpc.UNKNOWN
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


class RecordingMonitor(MockMonitor):
    def __init__(self, mocks: pulumi.runtime.Mocks, run: Run) -> None:
        super().__init__(mocks)
        self.run = run

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        response = super().RegisterResource(request)  # type: ignore[no-untyped-call]
        if request.type != "pulumi:pulumi:Stack":
            self.run.resources.append(
                Registration(
                    urn=response.urn,
                    type=request.type,
                    name=request.name,
                    custom=request.custom,
                    parent=request.parent,
                    dependencies=list(request.dependencies),
                    property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
                    delete_before_replace=request.deleteBeforeReplace,
                    inputs=_plain(rpc.deserialize_properties(request.object, keep_unknowns=True)),
                )
            )
        return response

    def Invoke(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        self.run.invokes.append((request.tok, rpc.deserialize_properties(request.args)))
        return super().Invoke(request)  # type: ignore[no-untyped-call]

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.urn.split("::")[-2:-1] == ["pulumi:pulumi:Stack"]:
            self.run.outputs = rpc.deserialize_properties(request.outputs, keep_unknowns=True)
        return super().RegisterResourceOutputs(request)  # type: ignore[no-untyped-call]


def execute(
    config: dict[str, str], *, stack: str = "dev", preview: bool = False, today: dt.date = TODAY
) -> tuple[Run, BaseException | None]:
    """Run ``infra.program.main`` with ``config`` as the stack config; return what was recorded and any error."""
    run = Run()
    mocks = AzureMocks(preview=preview)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    error: BaseException | None = None
    try:
        pulumi.runtime.set_mocks(
            mocks, project=PROJECT, stack=stack, preview=preview, monitor=RecordingMonitor(mocks, run)
        )
        pulumi.runtime.set_all_config(config)
        pulumi.runtime.settings.ROOT.set(None)  # set_mocks made a root stack; the program makes its own
        loop.run_until_complete(run_in_stack(lambda: program.main(today)))
    except Exception as exc:  # handed to the caller to assert on
        error = exc
    finally:
        loop.close()
        asyncio.set_event_loop(None)
    return run, error


def run_program(config: dict[str, str], *, stack: str = "dev", preview: bool = False, today: dt.date = TODAY) -> Run:
    """Like :func:`execute`, for a config that must succeed."""
    run, error = execute(config, stack=stack, preview=preview, today=today)
    if error is not None:
        raise error
    return run
