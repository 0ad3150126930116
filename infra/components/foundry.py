"""Foundry: a Microsoft Foundry resource with its projects, content filters and model deployments."""

from __future__ import annotations

import pulumi

from infra.azure_native import cognitiveservices as cs
from infra.components.args import FoundryArgs
from infra.desired import ContentFilterSpec

HARM_CATEGORIES = ("Hate", "Sexual", "Selfharm", "Violence")
"""The categories a content filter's threshold applies to, on prompts and on completions."""
PROTECTED_MATERIAL = ("Protected Material Text", "Protected Material Code")


def content_filters(spec: ContentFilterSpec) -> list[cs.RaiPolicyContentFilterArgs]:
    """The filters of a content-filter policy: every harm category on both sources at the threshold, blocking;
    jailbreak on prompts and protected material on completions, blocking when asked for."""
    filters = [
        cs.RaiPolicyContentFilterArgs(
            name=category, source=source, severity_threshold=spec.severity_threshold, blocking=True, enabled=True
        )
        for source in (cs.RaiPolicyContentSource.PROMPT, cs.RaiPolicyContentSource.COMPLETION)
        for category in HARM_CATEGORIES
    ]
    filters.append(
        cs.RaiPolicyContentFilterArgs(
            name="Jailbreak",
            source=cs.RaiPolicyContentSource.PROMPT,
            blocking=spec.jailbreak,
            enabled=spec.jailbreak,
        )
    )
    filters += [
        cs.RaiPolicyContentFilterArgs(
            name=name,
            source=cs.RaiPolicyContentSource.COMPLETION,
            blocking=spec.protected_material,
            enabled=spec.protected_material,
        )
        for name in PROTECTED_MATERIAL
    ]
    return filters


class Foundry(pulumi.ComponentResource):
    """A Foundry resource (``Microsoft.CognitiveServices/accounts``, kind ``AIServices``, sku S0, a system-assigned
    identity, project management on, its custom subdomain, local auth off unless asked for) or an existing one,
    with its projects (each with its identity), content-filter policies and model deployments.

    Azure takes one deployment PUT per account at a time (parallel ones fail with 409 RequestConflict), so each
    deployment depends on the one before it; a deployment is replaced delete-before-create, as its name is
    unique on the account. Keys are read only when local auth is on, and are Pulumi secrets.

    Child names derive from the component's: ``<name>`` (the account), ``<name>/<project>``,
    ``<name>/<content filter>``, ``<name>/<deployment>`` (``/`` is in no Azure name here, so they never collide).
    """

    TYPE = "azure-maas:index:Foundry"

    id: pulumi.Output[str]
    """The resource ID of the account."""
    account_name: pulumi.Output[str]
    project_ids: dict[str, pulumi.Output[str]]
    key1: pulumi.Output[str] | None
    key2: pulumi.Output[str] | None

    def __init__(self, name: str, args: FoundryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(self.TYPE, name, None, opts)
        spec, tags = args.spec, dict(args.placement.tags)
        child = pulumi.ResourceOptions(parent=self)
        if spec.created:
            account = cs.Account(
                name,
                account_name=spec.name,
                resource_group_name=args.resource_group_name,
                location=args.placement.location,
                kind="AIServices",
                sku=cs.SkuArgs(name="S0"),
                identity=cs.IdentityArgs(type=cs.ResourceIdentityType.SYSTEM_ASSIGNED),
                properties=cs.AccountPropertiesArgs(
                    allow_project_management=True,
                    custom_sub_domain_name=spec.subdomain,
                    disable_local_auth=not spec.local_auth,
                    public_network_access=spec.public_network_access,
                ),
                tags=tags,
                opts=child,
            )
            self.id, self.account_name = account.id, account.name
            resource_group_name: pulumi.Input[str] = args.resource_group_name
        else:
            self.id = pulumi.Output.from_input(spec.id)
            self.account_name = pulumi.Output.from_input(spec.name)
            resource_group_name = spec.resource_group
        self.project_ids = {}
        for project in spec.projects:
            created = cs.Project(
                f"{name}/{project.name}",
                account_name=self.account_name,
                project_name=project.name,
                resource_group_name=resource_group_name,
                location=args.placement.location,
                identity=cs.IdentityArgs(type=cs.ResourceIdentityType.SYSTEM_ASSIGNED),
                properties=cs.ProjectPropertiesArgs(display_name=project.name, description=project.description),
                tags=tags,
                opts=child,
            )
            self.project_ids[project.name] = created.id
        policies: dict[str, pulumi.Output[str]] = {}
        for content_filter in spec.content_filters:
            policy = cs.RaiPolicy(
                f"{name}/{content_filter.name}",
                account_name=self.account_name,
                rai_policy_name=content_filter.name,
                resource_group_name=resource_group_name,
                properties=cs.RaiPolicyPropertiesArgs(
                    base_policy_name=content_filter.base_policy,
                    mode=cs.RaiPolicyMode.BLOCKING,
                    content_filters=content_filters(content_filter),
                ),
                tags=tags,
                opts=child,
            )
            policies[content_filter.name] = policy.name
        previous: list[pulumi.Resource] = []
        for deployment in spec.deployments:
            # A custom policy is referenced by its output, so the deployment waits for it; a built-in by name.
            policy_name = policies.get(deployment.content_filter, pulumi.Output.from_input(deployment.content_filter))
            created_deployment = cs.Deployment(
                f"{name}/{deployment.name}",
                account_name=self.account_name,
                deployment_name=deployment.name,
                resource_group_name=resource_group_name,
                properties=cs.DeploymentPropertiesArgs(
                    model=cs.DeploymentModelArgs(
                        format=deployment.format, name=deployment.model_name, version=deployment.version
                    ),
                    rai_policy_name=policy_name,
                    version_upgrade_option=deployment.version_upgrade,
                ),
                sku=cs.SkuArgs(name=deployment.sku, capacity=deployment.capacity),
                opts=pulumi.ResourceOptions(parent=self, depends_on=previous, delete_before_replace=True),
            )
            previous = [created_deployment]
        self.key1 = self.key2 = None
        outputs: dict[str, object] = {"id": self.id, "accountName": self.account_name, "projects": self.project_ids}
        if spec.local_auth:
            keys = cs.list_account_keys_output(
                account_name=self.account_name,
                resource_group_name=resource_group_name,
                opts=pulumi.InvokeOutputOptions(parent=self),
            )
            self.key1 = pulumi.Output.secret(keys.key1)
            self.key2 = pulumi.Output.secret(keys.key2)
            outputs |= {"key1": self.key1, "key2": self.key2}
        self.register_outputs(outputs)
