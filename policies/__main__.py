"""The azure-maas policy pack: run by the Pulumi CLI (``pulumi preview --policy-pack policies``) or by
``maas plan`` through the same analyzer protocol. Nothing may print to stdout before the pack's port."""

from pulumi_policy import EnforcementLevel, PolicyPack

from azure_maas_policy import speedup
from azure_maas_policy.rules import POLICIES

# Before PolicyPack builds its servicer: each resource converted once per analyzer call, not once per policy, when
# the installed pulumi_policy is the version checked; otherwise the SDK runs as it is (see speedup.py).
speedup.install()

PolicyPack(
    name="azure-maas",
    policies=POLICIES,
    enforcement_level=EnforcementLevel.MANDATORY,
    description="Guard rails for partner models on Azure, as serverless APIs and on Microsoft Foundry resources: "
    "regions, one deployment per model per workspace, marketplace subscriptions, endpoint names, content safety and "
    "content filters, deployment types, serialized Foundry deployments, local auth, model lifecycle, least-privilege "
    "RBAC and tags.",
    display_name="azure-maas serverless model guard rails",
    provider="azure",
    tags=["azure", "azure-native", "machine-learning", "serverless", "models-as-a-service"],
)
