"""Run the real program under Azure-shaped mocks with the capturing engine of ``infra.capture``.

``AzureMocks`` answers as Azure would after an update (IDs, names, inference URIs, keys); with ``preview`` it
answers like the engine previewing a create (no IDs, inputs as the only outputs).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pulumi
import pulumi.runtime
from pulumi.runtime import rpc

from infra import program
from infra.engine.capture import Capture, capture
from infra.engine.resource import Resource

PROJECT = "azure-maas"
SUBSCRIPTION_ID = "11111111-2222-3333-4444-555555555555"
TENANT_ID = "99999999-8888-7777-6666-555555555555"
TODAY = dt.date(2026, 11, 24)
"""The day every test judges lifecycle on (the catalog's asOf), so no test turns red because a day passed."""
SIG_KEY = rpc._special_sig_key
SECRET_SIG = rpc._special_secret_sig


Registration = Resource
Run = Capture


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
            or inputs.get("projectName")
            or inputs.get("deploymentName")
            or inputs.get("raiPolicyName")
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
            "azure-native:cognitiveservices:Account": f"{base}/Microsoft.CognitiveServices/accounts/{name}",
            "azure-native:cognitiveservices:Project": f"{base}/Microsoft.CognitiveServices/accounts/{inputs.get('accountName')}/projects/{name}",
            "azure-native:cognitiveservices:RaiPolicy": f"{base}/Microsoft.CognitiveServices/accounts/{inputs.get('accountName')}/raiPolicies/{name}",
            "azure-native:cognitiveservices:Deployment": f"{base}/Microsoft.CognitiveServices/accounts/{inputs.get('accountName')}/deployments/{name}",
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
        if args.token == "azure-native:cognitiveservices:listAccountKeys":
            return {"key1": f"key1-{args.args['accountName']}", "key2": f"key2-{args.args['accountName']}"}
        if args.token == "azure-native:machinelearningservices:listServerlessEndpointKeys":
            return {"primaryKey": f"pk-{args.args['name']}", "secondaryKey": f"sk-{args.args['name']}"}
        raise AssertionError(f"unexpected invoke {args.token}")


def execute(
    config: dict[str, str], *, stack: str = "dev", preview: bool = False, today: dt.date = TODAY
) -> tuple[Run, BaseException | None]:
    """Run ``infra.program.main`` with ``config`` as the stack config; return what was recorded and any error."""
    mocks = AzureMocks(preview=preview)
    return capture(
        lambda: program.main(today), project=PROJECT, stack=stack, config=config, mocks=mocks, preview=preview
    )


def run_program(config: dict[str, str], *, stack: str = "dev", preview: bool = False, today: dt.date = TODAY) -> Run:
    """Like :func:`execute`, for a config that must succeed."""
    run, error = execute(config, stack=stack, preview=preview, today=today)
    if error is not None:
        raise error
    return run
