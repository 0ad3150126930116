"""No success that Azure or the engine would refuse: two config entries that would share a logical name (URN) or
an Azure name fail validation naming both keys, and the capturing engine refuses a duplicate URN as the engine does.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml
from pulumi_azure_native import resources

from infra import names, program
from infra.cli import app as cli
from infra.engine.capture import PreviewMocks, capture
from tests.conftest import PROJECT, minimal
from tests.harness import SUBSCRIPTION_ID, TODAY, execute

P = "3f2b6a1c-8d4e-4f7a-9b0c-1d2e3f4a5b6c"
AI_DEVELOPER = "64702f94-c441-49e6-a78b-ef80e0188fee"
READER = "acdd72a7-3385-48ef-bd42-f606fba81ae7"
ALLOWED = "; Azure allows one assignment per principal, role and scope"
CONTOSO = "azureml://registries/azureml-contoso/models"
ML = "/providers/Microsoft.MachineLearningServices/workspaces"
SHARED = f"/subscriptions/aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee/resourceGroups/rg-ml{ML}/mlw-shared"
OWN_RG = f"/subscriptions/{SUBSCRIPTION_ID}/resourceGroups/rg-azure-maas-dev"
TITLES = {
    "marketplace": "azure-maas Marketplace Subscriber",
    "saas": "azure-maas SaaS Resource Writer",
    "serverless": "azure-maas Serverless Deployer",
}


def grant(role: str, scope: str = "resourceGroup", principal: str = P) -> dict[str, str]:
    return {"principalId": principal, "principalType": "User", "role": role, "scope": scope}


def ws(name: str, *deployments: dict[str, Any], kind: str = "workspace", **extra: Any) -> dict[str, Any]:
    return {"name": name, "kind": kind, "deployments": list(deployments), **extra}


SMALL = {"name": "small", "model": "mistral-small-2503"}
TWO_WORKSPACES = [ws("ws-main", SMALL), ws("ws-other")]


def custom_role_guid(key: str) -> str:
    """The GUID of a ``deployer`` custom role as the program names it for the harness's subscription."""
    return names.deterministic_guid("role-definition", OWN_RG, "azure-maas", "dev", key)


# Each case: an id, the azure-maas keys (over a minimal valid stack), and the one line validation reports.
DEPLOYER_ROLES = {
    "marketplace": "0fc6114f-d1ba-5963-b15f-5d7deed1e9db",
    "saas": "635bd9e0-7716-59e5-b2ad-648892f80768",
    "serverless": "cc128442-e27e-54cd-b386-18d0b519b0c2",
}
"""``azure-maas:deployerRoles``: existing role definitions that ``deployer`` assigns instead of creating its own."""

CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "a-guid-role-that-is-a-given-deployer-role",
        {"deployerRoles": DEPLOYER_ROLES, "access": [grant("deployer"), grant(DEPLOYER_ROLES["saas"].upper())]},
        f"azure-maas:access[1]: grants the same role assignment as azure-maas:access[0] (principal {P}, role "
        f"{TITLES['saas']}, scope resourceGroup){ALLOWED}",
    ),
    (
        "deployer-with-given-roles-at-the-resource-group-and-at-a-workspace",
        {
            "deployerRoles": DEPLOYER_ROLES,
            "workspaces": TWO_WORKSPACES,
            "access": [grant("deployer"), grant("deployer", "ws-main")],
        },
        f"azure-maas:access[1]: grants the same role assignments as azure-maas:access[0] (principal {P}; "
        f"role {TITLES['marketplace']}, scope subscription; role {TITLES['saas']}, scope resourceGroup; "
        f"role {TITLES['serverless']}, scope ws-main){ALLOWED}",
    ),
    (
        "developer-and-the-azure-ai-developer-guid",
        {"access": [grant("developer"), grant(AI_DEVELOPER)]},
        f"azure-maas:access[1]: grants the same role assignment as azure-maas:access[0] (principal {P}, role "
        f"{AI_DEVELOPER} (Azure AI Developer), scope resourceGroup){ALLOWED}",
    ),
    (
        "the-same-grant-twice",
        {"access": [grant("developer", "ws-main"), grant("developer", "ws-main")]},
        f"azure-maas:access[1]: grants the same role assignment as azure-maas:access[0] (principal {P}, role "
        f"{AI_DEVELOPER} (Azure AI Developer), scope ws-main){ALLOWED}",
    ),
    (
        "upper-and-lower-case-guids",
        {"access": [grant(READER, "ws-main"), grant(READER.upper(), "ws-main", principal=P.upper())]},
        f"azure-maas:access[1]: grants the same role assignment as azure-maas:access[0] (principal {P}, role "
        f"{READER}, scope ws-main){ALLOWED}",
    ),
    (
        "deployer-at-the-resource-group-and-at-a-workspace",
        {"workspaces": TWO_WORKSPACES, "access": [grant("deployer"), grant("deployer", "ws-main")]},
        f"azure-maas:access[1]: grants the same role assignments as azure-maas:access[0] (principal {P}; "
        f"role {TITLES['marketplace']}, scope subscription; role {TITLES['saas']}, scope resourceGroup; "
        f"role {TITLES['serverless']}, scope ws-main){ALLOWED}",
    ),
    (
        "deployer-at-two-workspaces",
        {"workspaces": TWO_WORKSPACES, "access": [grant("deployer", "ws-main"), grant("deployer", "ws-other")]},
        f"azure-maas:access[1]: grants the same role assignments as azure-maas:access[0] (principal {P}; "
        f"role {TITLES['marketplace']}, scope subscription; role {TITLES['saas']}, scope resourceGroup){ALLOWED}",
    ),
    (
        "two-existing-workspaces-with-one-id",
        {
            "workspaces": [
                ws("ws-main", SMALL),
                ws("shared-a", kind="existing", id=SHARED),
                ws("shared-b", kind="existing", id=SHARED.upper()),
            ]
        },
        f"azure-maas:workspaces[2]: is the same Azure workspace as azure-maas:workspaces[1] ({SHARED}); "
        "list each workspace once",
    ),
    (
        "existing-workspace-that-is-the-existing-hub",
        {"hub": {"id": SHARED}, "workspaces": [ws("ws-main", SMALL), ws("shared", kind="existing", id=SHARED)]},
        f"azure-maas:workspaces[1]: is the same Azure workspace as azure-maas:hub ({SHARED}); list each workspace once",
    ),
    (
        "subscription-names-differing-by-a-dot",
        {
            "workspaces": [
                ws(
                    "ws-main",
                    {"name": "chat-a", "modelId": f"{CONTOSO}/Contoso-1.5-chat"},
                    {"name": "chat-b", "modelId": f"{CONTOSO}/Contoso-1-5-chat"},
                )
            ]
        },
        "azure-maas:workspaces[0].deployments[1]: would share the marketplace subscription name 'Contoso-1-5-chat' in "
        "workspace 'ws-main' with azure-maas:workspaces[0].deployments[0] (models "
        f"{CONTOSO}/Contoso-1-5-chat and {CONTOSO}/Contoso-1.5-chat); subscription names are unique per workspace: "
        "deploy one of these models in another workspace",
    ),
    (
        "subscription-names-from-two-registries",
        {
            "workspaces": [
                ws(
                    "ws-main",
                    {"name": "chat-a", "modelId": f"{CONTOSO}/Contoso-Chat"},
                    {"name": "chat-b", "modelId": "azureml://registries/azureml-fabrikam/models/contoso-chat"},
                )
            ]
        },
        "azure-maas:workspaces[0].deployments[1]: would share the marketplace subscription name 'contoso-chat' in "
        "workspace 'ws-main' with azure-maas:workspaces[0].deployments[0] (models "
        f"azureml://registries/azureml-fabrikam/models/contoso-chat and {CONTOSO}/Contoso-Chat); subscription names "
        "are unique per workspace: deploy one of these models in another workspace",
    ),
]


def expect(error: BaseException | None, *lines: str) -> None:
    assert isinstance(error, pulumi.RunError), error
    count = len(lines)
    head = f"invalid stack config ({count} problem{'s' if count != 1 else ''}); nothing was created"
    assert str(error).splitlines() == [head, *(f"  {line}" for line in lines)]


@pytest.mark.parametrize(("keys", "line"), [pytest.param(k, line, id=i) for i, k, line in CASES])
def test_entries_that_would_collide_fail_before_anything_is_registered(keys: dict[str, Any], line: str) -> None:
    run, error = execute(minimal(**keys))

    expect(error, line)
    assert run.resources == []
    assert run.invokes == []


def test_a_collision_is_one_line_per_pair_of_entries() -> None:
    run, error = execute(minimal(access=[grant("developer"), grant(AI_DEVELOPER), grant("developer")]))

    expect(
        error,
        f"azure-maas:access[1]: grants the same role assignment as azure-maas:access[0] (principal {P}, role "
        f"{AI_DEVELOPER} (Azure AI Developer), scope resourceGroup){ALLOWED}",
        f"azure-maas:access[2]: grants the same role assignment as azure-maas:access[0] (principal {P}, role "
        f"{AI_DEVELOPER} (Azure AI Developer), scope resourceGroup){ALLOWED}",
    )
    assert run.resources == []


def test_collisions_are_checked_once_every_entry_is_valid_on_its_own() -> None:
    _, error = execute(minimal(location="westeurope", access=[grant("developer"), grant(AI_DEVELOPER)]))

    assert isinstance(error, pulumi.RunError)
    assert [line.split(": ")[0].strip() for line in str(error).splitlines()[1:]] == ["azure-maas:location"]


# Collisions that only the deploying subscription reveals: IDs in the config that name what the stack creates.
SUBSCRIPTION_CASES: list[tuple[str, dict[str, Any], str]] = [
    (
        "a-guid-role-that-is-the-deployer-role",
        {"access": [grant("deployer"), grant(custom_role_guid("serverless"), "ws-main")]},
        f"azure-maas:access[1]: grants the same role assignment as azure-maas:access[0] (principal {P}, role "
        f"{TITLES['serverless']}, scope ws-main){ALLOWED}",
    ),
    (
        "an-existing-workspace-that-the-stack-creates",
        {"workspaces": [ws("ws-main", SMALL), ws("again", kind="existing", id=f"{OWN_RG}{ML}/ws-main")]},
        f"azure-maas:workspaces[1]: is the same Azure workspace as azure-maas:workspaces[0] ({OWN_RG}{ML}/ws-main); "
        "list each workspace once",
    ),
]


@pytest.mark.parametrize(("keys", "line"), [pytest.param(k, line, id=i) for i, k, line in SUBSCRIPTION_CASES])
def test_collisions_in_the_deploying_subscription_fail_before_anything_is_registered(
    keys: dict[str, Any], line: str
) -> None:
    run, error = execute(minimal(**keys))

    expect(error, line)
    assert run.resources == []
    assert [token for token, _ in run.invokes] == ["azure-native:authorization:getClientConfig"]


def test_components_of_different_types_may_share_a_name() -> None:
    """A URN is qualified by type and parent types: a workspace, an endpoint, the hub and the access component
    may all be called alike."""
    run, error = execute(
        minimal(
            hub={"name": "hub-one"},
            workspaces=[
                ws("access", {"name": "hub-one", "model": "mistral-small-2503"}, kind="project"),
                ws(
                    "chat",
                    {"name": "access", "model": "phi-4"},
                    {"name": "chat", "model": "ministral-3b"},
                    kind="project",
                ),
            ],
            access=[grant("developer"), grant("deployer", "access")],
        )
    )

    assert error is None, error
    urns = [r.urn for r in run.resources]
    assert len(urns) == len(set(urns))
    assert {r.type for r in run.resources if r.name == "access"} == {
        "azure-maas:index:Workspace",
        "azure-maas:index:ModelDeployment",
        "azure-maas:index:Access",
    }


# ---------------------------------------------------------------------------------------------------
# maas plan: exit 2 naming both keys.


def project(tmp_path: Path, config: dict[str, Any]) -> Path:
    shutil.copy(PROJECT / "Pulumi.yaml", tmp_path / "Pulumi.yaml")
    document = {"config": {"azure-native:location": "eastus2", **{f"azure-maas:{k}": v for k, v in config.items()}}}
    (tmp_path / "Pulumi.dev.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    return tmp_path


def plan(capsys: pytest.CaptureFixture[str], directory: Path) -> tuple[int, str, str]:
    code = cli.main(["plan", "--cwd", str(directory), "--stack", "dev", "--today", TODAY.isoformat()])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def keys_of(config: dict[str, str]) -> dict[str, Any]:
    return {k.removeprefix("azure-maas:"): yaml.safe_load(v) for k, v in config.items()}


@pytest.mark.parametrize(("keys", "line"), [pytest.param(k, line, id=i) for i, k, line in CASES])
def test_maas_plan_exits_2_naming_both_keys(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, keys: dict[str, Any], line: str
) -> None:
    code, out, err = plan(capsys, project(tmp_path, keys_of(minimal(**keys))))

    assert (code, out) == (2, "")
    assert err.splitlines() == ["maas plan: invalid stack config (1 problem); nothing was created", f"  {line}"]


@pytest.mark.parametrize(("keys", "line"), [pytest.param(k, line, id=i) for i, k, line in SUBSCRIPTION_CASES])
def test_maas_plan_exits_2_for_collisions_in_the_deploying_subscription(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, keys: dict[str, Any], line: str
) -> None:
    config = keys_of(minimal(**keys))
    directory = project(tmp_path, config)
    stack_file = directory / "Pulumi.dev.yaml"
    document = yaml.safe_load(stack_file.read_text(encoding="utf-8"))
    document["config"]["azure-native:subscriptionId"] = SUBSCRIPTION_ID
    stack_file.write_text(yaml.safe_dump(document), encoding="utf-8")

    code, out, err = plan(capsys, directory)

    assert (code, out) == (2, "")
    assert err.splitlines() == ["maas plan: invalid stack config (1 problem); nothing was created", f"  {line}"]


# ---------------------------------------------------------------------------------------------------
# The capturing engine refuses a duplicate URN, as the engine does.


class Box(pulumi.ComponentResource):
    def __init__(self, type_: str, name: str, child: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(type_, name, None, opts)
        resources.ResourceGroup(child, location="eastus2", opts=pulumi.ResourceOptions(parent=self))
        self.register_outputs({})


def run(program_: Any) -> tuple[Any, BaseException | None]:
    return capture(program_, project="p", stack="s", config={}, mocks=PreviewMocks({}), preview=True)


def test_a_second_resource_with_one_urn_is_refused() -> None:
    def twice() -> None:
        resources.ResourceGroup("rg", location="eastus2")
        resources.ResourceGroup("rg", location="westus")

    captured, error = run(twice)

    from infra.engine.capture import DuplicateUrnError  # new with the refusal; imported here so every other test runs

    assert isinstance(error, DuplicateUrnError)
    assert str(error) == (
        "Duplicate resource URN 'urn:pulumi:s::p::azure-native:resources:ResourceGroup::rg'; try giving it a unique name"
    )
    assert [r.inputs["location"] for r in captured.resources] == ["eastus2"]


def test_children_of_two_parents_of_one_type_share_a_urn() -> None:
    def alike() -> None:
        Box("my:index:Box", "a", "child")
        Box("my:index:Box", "b", "child")

    _, error = run(alike)

    assert str(error) == (
        "Duplicate resource URN 'urn:pulumi:s::p::my:index:Box$azure-native:resources:ResourceGroup::child'; "
        "try giving it a unique name"
    )


def test_urns_are_qualified_by_every_parent_type() -> None:
    """The engine qualifies a type by all its parents' types, not only the nearest one's."""

    def nested() -> None:
        outer = Box("my:index:Outer", "outer", "outer-rg")
        Box("my:index:Box", "inner", "child", opts=pulumi.ResourceOptions(parent=outer))
        Box("my:index:Box", "top", "child")

    captured, error = run(nested)

    assert error is None, error
    assert len(captured.of_type("azure-native:resources:ResourceGroup")) == 3


def test_maas_plan_reports_a_duplicate_urn_as_an_internal_failure(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Validation names the keys of every collision it knows; a duplicate URN that reaches the engine is a gap in
    validation, so it is an internal failure (exit 3) with the engine's own message."""

    def duplicated(today: Any = None) -> None:
        resources.ResourceGroup("rg", location="eastus2")
        resources.ResourceGroup("rg", location="eastus2")

    monkeypatch.setattr(program, "main", duplicated)

    code, out, err = plan(capsys, project(tmp_path, keys_of(minimal())))

    assert (code, out) == (3, "")
    assert err == (
        "maas plan: internal error: the program failed: Duplicate resource URN "
        "'urn:pulumi:dev::azure-maas::azure-native:resources:ResourceGroup::rg'; try giving it a unique name\n"
    )
