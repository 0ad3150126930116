"""``maas plan`` reads config as the Pulumi engine does: the project's ``config:`` block under the stack's values,
the stack file's other keys, ``stackConfigDir``; an ESC import is a warning (and named where a key is then
missing); misspelled keys and namespaces get a did-you-mean. docs/configuration.md#how-maas-plan-reads-config
lists what is the same as ``pulumi preview`` with the test that holds each claim; the claims are checked
against this module by tests/test_docs.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from infra.engine.preview import PreviewInputError, run_preview
from infra.engine.stack_files import (
    SECURE_PLACEHOLDER,
    StackFileError,
    read_project,
    read_stack_file,
)
from infra.settings import misspelled_namespaces
from infra.suggest import closest, distance

PROJECT = "name: azure-maas\nruntime: python\n"
WORKSPACES = (
    "  azure-maas:workspaces:\n"
    "    - name: ws-main\n"
    "      kind: workspace\n"
    "      deployments:\n"
    "        - name: small\n"
    "          model: mistral-small-2503\n"
)


def project(tmp_path: Path, extra: str = "", stack: str = "", name: str = "dev") -> Path:
    """A project in ``tmp_path``: ``Pulumi.yaml`` (``PROJECT`` + ``extra``) and ``Pulumi.<name>.yaml``."""
    (tmp_path / "Pulumi.yaml").write_text(PROJECT + extra, encoding="utf-8")
    if stack:
        (tmp_path / f"Pulumi.{name}.yaml").write_text(stack, encoding="utf-8")
    return tmp_path


def read(tmp_path: Path, extra: str, stack: str) -> dict[str, str]:
    directory = project(tmp_path, extra, stack)
    return read_stack_file(directory / "Pulumi.dev.yaml", read_project(directory)).config


def refused(tmp_path: Path, extra: str, stack: str = "config: {}\n") -> str:
    with pytest.raises(StackFileError) as raised:
        read(tmp_path, extra, stack)
    return str(raised.value)


# --- the project's config block -------------------------------------------------------------------------


def test_project_values_and_defaults_sit_under_the_stack_values(tmp_path: Path) -> None:
    extra = (
        "config:\n"
        "  location: eastus2\n"  # shorthand of a project key: its default
        "  azure-native:location: westus3\n"  # shorthand of another namespace: its value
        "  azure-maas:tags:\n"
        "    type: object\n"
        "    default: {team: a}\n"
        "  azure-maas:allowedRegions:\n"
        "    type: array\n"
        "    items: {type: string}\n"
        "    default: [eastus2, swedencentral]\n"
        "  azure-native:subscriptionId:\n"
        "    value: 11111111-1111-1111-1111-111111111111\n"
        "  owner: {type: string, default: null, description: null}\n"  # null is unset: required
    )
    stack = "config:\n  azure-maas:tags: {team: b}\n  azure-native:location: eastus\n  owner: ops\n"

    config = read(tmp_path, extra, stack)

    assert config == {
        "azure-maas:tags": '{"team": "b"}',  # the stack's value wins over the project's default
        "azure-native:location": "eastus",  # ... and over the project's value
        "azure-maas:location": "eastus2",
        "azure-maas:allowedRegions": '["eastus2", "swedencentral"]',
        "azure-native:subscriptionId": "11111111-1111-1111-1111-111111111111",
        "azure-maas:owner": "ops",
    }
    stack_file = read_stack_file(tmp_path / "Pulumi.dev.yaml", read_project(tmp_path))
    assert stack_file.from_project == {
        "azure-maas:location",
        "azure-maas:allowedRegions",
        "azure-native:subscriptionId",
    }


def test_a_plan_takes_the_location_from_the_project_default(tmp_path: Path) -> None:
    directory = project(tmp_path, "config:\n  azure-maas:location:\n    type: string\n    default: swedencentral\n")
    (directory / "Pulumi.dev.yaml").write_text("config:\n" + WORKSPACES, encoding="utf-8")

    result = run_preview(directory, "dev")

    assert result.exit_code == 0
    workspace = next(r for r in result.resources if r.type.endswith(":Workspace"))
    assert workspace.inputs["location"] == "swedencentral"
    assert result.warnings == ()
    assert result.policy_config is None


def test_a_required_project_key_missing_from_the_stack_is_named(tmp_path: Path) -> None:
    extra = "config:\n  costCenter:\n    type: string\n  owner:\n    type: string\n  team: {type: string}\n"

    assert refused(tmp_path, extra, "config:\n  team: a\n") == (
        "Pulumi.dev.yaml: Stack 'dev' is missing configuration values 'costCenter' and 'owner' "
        "(Pulumi.yaml declares them without a default)"
    )


def test_a_null_default_is_no_default(tmp_path: Path) -> None:
    assert refused(tmp_path, "config:\n  owner: {type: string, default: null}\n") == (
        "Pulumi.dev.yaml: Stack 'dev' is missing configuration value 'owner' (Pulumi.yaml declares it without a "
        "default)"
    )


def test_a_required_key_of_another_namespace_is_not_required(tmp_path: Path) -> None:
    # Pulumi requires only keys of the project's namespace; another namespace's key must give a value.
    assert refused(tmp_path, "config:\n  azure-native:location: {description: where}\n") == (
        "Pulumi.yaml: config.azure-native:location: configuration key 'azure-native:location' is namespaced and "
        "must provide an attribute 'value'"
    )


@pytest.mark.parametrize(
    ("declaration", "value", "type_name"),
    [
        ("{type: integer}", "'12a'", "integer"),
        ("{type: integer}", "[1]", "integer"),
        ("{type: boolean}", "'yes'", "boolean"),
        ("{type: string}", "[a]", "string"),
        ("{type: object}", "'a'", "object"),
        ("{type: array, items: {type: integer}}", "[1, x]", "array<integer>"),
        ("{type: array, items: {type: array, items: {type: boolean}}}", "[[true], [1]]", "array<array<boolean>>"),
    ],
)
def test_a_stack_value_of_the_wrong_type_is_refused(
    tmp_path: Path, declaration: str, value: str, type_name: str
) -> None:
    message = refused(tmp_path, f"config:\n  size: {declaration}\n", f"config:\n  size: {value}\n")

    assert message == f"Pulumi.dev.yaml: Stack 'dev' with configuration key 'size' must be of type '{type_name}'"


@pytest.mark.parametrize(
    ("declaration", "value"),
    [
        ("{type: integer}", "12"),
        ("{type: integer}", "'-3'"),  # Pulumi accepts a string that parses as an integer
        ("{type: boolean}", "true"),
        ("{type: boolean}", "'false'"),
        ("{type: string}", "12"),  # the engine holds scalars as text
        ("{type: object}", "{a: 1}"),
        ("{type: array, items: {type: integer}}", "[1, 2.0]"),
    ],
)
def test_a_stack_value_of_the_declared_type_passes(tmp_path: Path, declaration: str, value: str) -> None:
    assert "azure-maas:size" in read(tmp_path, f"config:\n  size: {declaration}\n", f"config:\n  size: {value}\n")


def test_a_secret_key_must_be_encrypted_and_is_not_type_checked_offline(tmp_path: Path) -> None:
    extra = "config:\n  token: {type: integer, secret: true}\n"

    assert refused(tmp_path, extra, "config:\n  token: abc\n") == (
        "Pulumi.dev.yaml: Stack 'dev' with configuration key 'token' must be encrypted as it's secret "
        "(pulumi config set --secret)"
    )
    config = read(tmp_path, extra, "config:\n  token:\n    secure: v1:AAAA\n")
    assert config == {"azure-maas:token": SECURE_PLACEHOLDER}


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (
            "config:\n  size: {default: 1, value: 2}\n",
            "Pulumi.yaml: config.size: project config 'size' cannot have both a 'default' and 'value' attribute",
        ),
        (
            "config:\n  sizes: {type: array}\n",
            "Pulumi.yaml: config.sizes: the configuration key 'sizes' declares an array but does not specify the "
            "underlying type via the 'items' attribute",
        ),
        (
            "config:\n  size: {type: integer, default: big}\n",
            "Pulumi.yaml: config.size: the default value specified for configuration key 'size' is not of the "
            "expected type 'integer'",
        ),
        (
            "config:\n  aws:region: {type: string, value: x}\n",
            "Pulumi.yaml: config.aws:region: configuration key 'aws:region' is not namespaced by the project and "
            "should not define a type",
        ),
        (
            "config:\n  aws:region: {default: x}\n",
            "Pulumi.yaml: config.aws:region: configuration key 'aws:region' is not namespaced by the project and "
            "should not define a default value; did you mean to use the 'value' attribute instead of 'default'?",
        ),
        (
            "config:\n  size: {type: float}\n",
            "Pulumi.yaml: config.size.type: 'float' is not a config type; valid: array, boolean, integer, object, "
            "string",
        ),
        (
            "config:\n  size: {defualt: 1}\n",
            "Pulumi.yaml: config.size: 'defualt' is not an attribute of a config declaration; did you mean "
            "'default'? valid: default, description, items, secret, type, value (an object value goes under "
            "'value' or 'default')",
        ),
        (
            "config:\n  size: 1.5\n",
            "Pulumi.yaml: config.size: must be a value or a declaration (default, description, items, secret, type, "
            "value); a number with a fraction goes in quotes",
        ),
        ("config: [a]\n", "Pulumi.yaml: config: must be a mapping of config keys to values or declarations"),
        (
            "config: stacks\nstackConfigDir: stacks\n",
            "Pulumi.yaml: should not use both config and stackConfigDir to define the stack directory; use only "
            "stackConfigDir",
        ),
    ],
    ids=[
        "default and value",
        "array without items",
        "default of the wrong type",
        "type outside the project",
        "default outside the project",
        "unknown type",
        "misspelled attribute",
        "float shorthand",
        "config not a mapping",
        "config and stackConfigDir",
    ],
)
def test_a_project_file_the_pulumi_cli_refuses_is_refused(tmp_path: Path, extra: str, message: str) -> None:
    assert refused(tmp_path, extra) == message


def test_stack_files_live_where_stack_config_dir_says(tmp_path: Path) -> None:
    for extra in ("stackConfigDir: stacks\n", "config: stacks\n"):  # config: <dir> is the older spelling
        project(tmp_path, extra)
        (tmp_path / "stacks").mkdir(exist_ok=True)
        (tmp_path / "stacks" / "Pulumi.prod.yaml").write_text("config:\n  location: eastus\n", encoding="utf-8")
        (tmp_path / "stacks" / "Pulumi.prod.policy.json").write_text("{}", encoding="utf-8")

        found = read_project(tmp_path)

        assert found.stacks() == ["prod"]
        assert found.stack_file("prod") == tmp_path / "stacks" / "Pulumi.prod.yaml"
        assert found.policy_config("prod") == tmp_path / "stacks" / "Pulumi.prod.policy.json"
        assert read_stack_file(found.stack_file("prod"), found).config == {"azure-maas:location": "eastus"}


# --- the stack file's own keys --------------------------------------------------------------------------


def test_every_stack_file_key_pulumi_writes_is_accepted(tmp_path: Path) -> None:
    stack = (
        "secretsprovider: azurekeyvault://kv-maas.vault.azure.net/keys/pulumi\n"
        "encryptedkey: ZXhhbXBsZQ==\n"
        "encryptionsalt: v1:abc:def\n"
        "environment:\n  - myorg/azure-dev\n"
        "config:\n  location: eastus2\n"
    )
    directory = project(tmp_path, stack=stack)

    stack_file = read_stack_file(directory / "Pulumi.dev.yaml", read_project(directory))

    assert stack_file.config == {"azure-maas:location": "eastus2"}
    assert stack_file.environments == ("myorg/azure-dev",)


@pytest.mark.parametrize(
    ("key", "message"),
    [
        (
            "configs",
            "Pulumi.dev.yaml: 'configs' is not a stack file key; did you mean 'config'? valid: config, encryptedkey, "
            "encryptionsalt, environment, secretsprovider",
        ),
        (
            "enviroment",
            "Pulumi.dev.yaml: 'enviroment' is not a stack file key; did you mean 'environment'? valid: config, "
            "encryptedkey, encryptionsalt, environment, secretsprovider",
        ),
        (
            "settings",
            "Pulumi.dev.yaml: 'settings' is not a stack file key; valid: config, encryptedkey, encryptionsalt, "
            "environment, secretsprovider",
        ),
    ],
)
def test_an_unknown_stack_file_key_is_refused_with_a_did_you_mean(tmp_path: Path, key: str, message: str) -> None:
    assert refused(tmp_path, "", f"{key}:\n  location: eastus2\n") == message


@pytest.mark.parametrize(
    ("environment", "names"),
    [
        ("environment: [a/dev, b/shared]\n", ("a/dev", "b/shared")),
        ("environment:\n  imports:\n    - a/dev\n    - b/shared: {merge: false}\n", ("a/dev", "b/shared")),
        (
            "environment:\n  imports: [a/dev]\n  values:\n    pulumiConfig: {location: x}\n",
            ("a/dev", "(inline definition)"),
        ),
    ],
    ids=["list", "imports", "inline values"],
)
def test_esc_environments_are_named(tmp_path: Path, environment: str, names: tuple[str, ...]) -> None:
    directory = project(tmp_path, stack=environment)

    assert read_stack_file(directory / "Pulumi.dev.yaml", read_project(directory)).environments == names


@pytest.mark.parametrize("environment", ["environment: a/dev\n", "environment: [[a]]\n", "environment: {imports: a}\n"])
def test_a_malformed_environment_is_refused(tmp_path: Path, environment: str) -> None:
    assert refused(tmp_path, "", environment) == (
        "Pulumi.dev.yaml: environment: must be a list of ESC environment names or an environment definition "
        "(imports, values)"
    )


def test_an_esc_import_is_a_warning_in_the_plan(tmp_path: Path) -> None:
    directory = project(tmp_path, stack="environment: [myorg/azure-dev]\nconfig:\n  location: eastus2\n" + WORKSPACES)

    result = run_preview(directory, "dev")

    assert result.exit_code == 0
    assert result.warnings == (
        "Pulumi.dev.yaml imports the ESC environment myorg/azure-dev; maas plan cannot open ESC offline, so config "
        "the environment sets (pulumiConfig) is missing from this plan: pulumi preview sees it",
    )


def test_a_key_missing_under_an_esc_import_names_the_environment(tmp_path: Path) -> None:
    directory = project(tmp_path, stack="environment: [myorg/azure-dev]\nconfig:\n" + WORKSPACES)

    with pytest.raises(PreviewInputError) as raised:
        run_preview(directory, "dev")

    assert str(raised.value).splitlines() == [
        "invalid stack config (1 problem); nothing was created",
        "  azure-maas:location: required (or set azure-native:location); one of allowedRegions: eastus, eastus2, "
        "northcentralus, southcentralus, westus, westus3, swedencentral",
        "  Pulumi.dev.yaml imports the ESC environment myorg/azure-dev, which maas plan cannot open offline: if it "
        "sets a missing key, also set the key in the stack file to plan offline",
    ]


def test_a_required_project_key_missing_under_an_esc_import_names_the_environment(tmp_path: Path) -> None:
    message = refused(tmp_path, "config:\n  owner: {type: string}\n", "environment: [e1, e2]\nconfig: {}\n")

    assert message == (
        "Pulumi.dev.yaml: Stack 'dev' is missing configuration value 'owner'; Pulumi.dev.yaml imports the ESC "
        "environments e1, e2, which maas plan cannot open offline: if it sets a missing key, also set the key in "
        "the stack file to plan offline"
    )


# --- namespaces -----------------------------------------------------------------------------------------


def test_a_misspelled_namespace_fails_the_plan_with_a_did_you_mean(tmp_path: Path) -> None:
    stack = "config:\n  azure-mass:location: eastus2\n  azure-native:location: eastus2\n" + WORKSPACES
    directory = project(tmp_path, stack=stack)

    with pytest.raises(PreviewInputError) as raised:
        run_preview(directory, "dev")

    assert str(raised.value).splitlines() == [
        "invalid stack config (1 problem); nothing was created",
        "  azure-mass:location: unknown config namespace 'azure-mass'; did you mean 'azure-maas:location'?",
    ]


def test_which_namespaces_are_taken_for_misspellings() -> None:
    keys = [
        "azure-mass:location",
        "Azure-MAAS:tags",
        "azuremaas:hub",
        "azure-native:location",
        "azure:location",
        "pulumi:disable-default-providers",
        "azure-maas:location",
    ]

    assert [issue.message for issue in misspelled_namespaces(keys)] == [
        "azure-mass:location: unknown config namespace 'azure-mass'; did you mean 'azure-maas:location'?",
        "Azure-MAAS:tags: unknown config namespace 'Azure-MAAS'; did you mean 'azure-maas:tags'?",
        "azuremaas:hub: unknown config namespace 'azuremaas'; did you mean 'azure-maas:hub'?",
    ]


def test_keys_of_a_renamed_project_are_pointed_at_the_azure_maas_namespace() -> None:
    issues = misspelled_namespaces(["models:location", "models:owner", "azure-maas:tags"], project="models")

    assert [issue.message for issue in issues] == [
        "models:location: azure-maas reads its keys from the 'azure-maas' namespace, not the project's ('models', "
        "where a key without a namespace goes); write 'azure-maas:location'"
    ]


def test_did_you_mean_follows_the_pulumi_cli() -> None:
    assert distance("configs", "config") == 1
    assert distance("kitten", "sitting") == 3
    assert closest("CONFIG", ["config", "environment"]) == "config"  # case-insensitive
    assert closest("enviroments", ["environment"]) == "environment"  # two edits
    assert closest("envir", ["environment"]) is None  # six edits
    assert closest("ab", ["ac", "ad"]) == "ac"  # a tie goes to the first alphabetically
    assert closest("x" * 201, ["x" * 201]) is None  # no quadratic work on a hostile name


# --- the stack's policy config --------------------------------------------------------------------------


def test_a_plan_uses_the_stacks_policy_config_file(tmp_path: Path) -> None:
    stack = "config:\n  location: eastus2\n" + WORKSPACES.replace(
        "model: mistral-small-2503", "model: mistral-small-2503\n          contentSafety: false"
    )
    directory = project(tmp_path, stack=stack)
    assert run_preview(directory, "dev").exit_code == 1  # content-safety-enabled is mandatory

    policy = directory / "Pulumi.dev.policy.json"
    policy.write_text(
        json.dumps({"content-safety-enabled": {"exceptions": {"ws-main/small": "offline red-team evaluation"}}}),
        encoding="utf-8",
    )
    result = run_preview(directory, "dev")

    assert result.exit_code == 0
    assert result.policy_config == policy
    assert [d.policy_name for d in result.report.diagnostics if d.policy_name == "content-safety-enabled"] == []

    explicit = tmp_path / "strict.json"
    explicit.write_text("{}", encoding="utf-8")
    overridden = run_preview(directory, "dev", policy_config=explicit)
    assert overridden.exit_code == 1  # --policy-pack-config wins over the convention file
    assert overridden.policy_config == explicit


def test_a_misspelled_policy_in_the_stacks_policy_config_fails_the_plan(tmp_path: Path) -> None:
    directory = project(tmp_path, stack="config:\n  location: eastus2\n" + WORKSPACES)
    (directory / "Pulumi.dev.policy.json").write_text('{"required-tag": "advisory"}', encoding="utf-8")

    with pytest.raises(PreviewInputError) as raised:
        run_preview(directory, "dev")

    assert str(raised.value) == (
        f"invalid policy pack config {directory / 'Pulumi.dev.policy.json'}: "
        "required-tag: no such policy in the pack; did you mean 'required-tags'? policies: approved-models, "
        "content-safety-enabled, endpoint-name, foundry-content-filters, foundry-deployment-types, "
        "foundry-deployments-serialized, foundry-local-auth-disabled, foundry-project-management, "
        "foundry-region-allowlist, marketplace-subscription-required, no-retired-models, one-deployment-per-model, "
        "rbac-least-privilege, required-tags, serverless-region-allowlist"
    )


# --- the docs claim only what these tests hold ----------------------------------------------------------


def test_every_claim_in_the_docs_names_a_test_of_this_module() -> None:
    import re

    from tests.docs import page, section

    text = section(page("configuration.md"), "## Where config comes from")
    named = set(re.findall(r"`(test_\w+)`", text))
    here = {name for name in globals() if name.startswith("test_")}

    assert len(named) >= 15
    assert named <= here, f"named in the docs but not a test here: {sorted(named - here)}"


def test_the_bootstrap_reads_a_stack_as_the_engine_does(tmp_path: Path) -> None:
    """The bootstrap decides what the deploy identity may grant from the same merged config: a location that
    only Pulumi.yaml gives is no invalid stack there either."""
    from infra.cli.bootstrap import Grant, stack_grants
    from infra.roles import AZURE_AI_DEVELOPER

    directory = project(
        tmp_path,
        "config:\n  location: eastus2\n",
        "config:\n  resourceGroup: {name: rg-team}\n"
        + WORKSPACES
        + "  azure-maas:access:\n"
        + "    - {principalId: 5d8f2e7a-1c3b-4a9e-8f6d-2b7c9e0a1d3f, principalType: Group, role: developer}\n",
    )

    grants = stack_grants(
        directory,
        "dev",
        subscription_id="11111111-1111-1111-1111-111111111111",
        resource_group="rg-team",
        repo="org/repo",
        excluded=["22222222-2222-2222-2222-222222222222"],
    )

    assert grants == frozenset({Grant(AZURE_AI_DEVELOPER, "Group", None, "resourceGroup")})
