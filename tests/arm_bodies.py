"""The ARM requests the azure-native provider would send for a registered resource, checked against the Azure REST
spec of the API version the installed SDK uses.

Nothing here reaches Azure. The specs are fragments of ``Azure/azure-rest-api-specs`` vendored under
``tests/specs/`` (one JSON file per source file, with its repository path, commit and API version, trimmed to the PUT
operations the program uses and the definitions their bodies reference). From a resource's inputs, as the engine
sees them (camelCase, :class:`infra.engine.resource.Resource`), :func:`request` builds what the provider puts on the
wire, the way the provider's metadata does it:

- the PUT's path parameters (``resourceGroupName``, ``accountName``, ``scope``...) go in the URL, not in the body;
- every other input goes in the body under its wire name: ``x-ms-client-name`` renames a property for SDKs
  (``enableHttpsTrafficOnly`` is sent as ``supportsHttpsTrafficOnly``, ``roleType`` as ``type``), and the properties of
  an ``x-ms-client-flatten`` container are SDK inputs of their own that travel inside it (a workspace's ``keyVault``
  input is sent as ``properties.keyVault``);
- a secret is sent as its value; a value unknown at preview (``pulumi.runtime.rpc.UNKNOWN``) is sent once known.

:func:`violations` then checks the request against the spec, turned into JSON Schema and run by ``jsonschema``:

- **required**: a required property is missing (an unknown value counts as present);
- **enum**, **pattern**, **type**, **minLength**/**maxLength**/**minimum**/**maximum**: the value breaks the spec.
  Enums are checked strictly, ``x-ms-enum.modelAsString`` or not: a value outside the list the spec names is one
  Azure may reject. An unknown value is taken as "any value of the right type": these value rules skip it;
- **read-only**: a ``readOnly`` property (on the property or on the definition it references) is sent; the service
  sets it, a request must not;
- **unknown property**: a key that is not a property of the object in the spec. Swagger 2.0 objects accept extra
  properties unless they say ``additionalProperties: false``, and the specs never say it; here **every object that
  declares properties is closed** unless it declares ``additionalProperties`` itself (a map such as ``tags``). An
  object that declares neither is free-form;
- **not vendored**: the value is sent to a property whose schema was trimmed out of the fragment; vendor it to check.

Each message names the resource URN, the JSON path of the value (``$.properties.authMode``, or a path parameter) and
the rule. Formats (``uuid``, ``date-time``, ``arm-id``) are not checked.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import json
import posixpath
import re
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema import validators
from jsonschema.exceptions import ValidationError
from pulumi.runtime import rpc

SPECS_DIR = Path(__file__).resolve().parent / "specs"
UNKNOWN = rpc.UNKNOWN
SECRET_SIG_KEY = rpc._special_sig_key
SECRET_SIG = rpc._special_secret_sig
PROVIDER_FILLED = frozenset({"subscriptionId", "api-version"})
"""Parameters the provider fills from its own configuration: never resource inputs."""

VALUE_RULES = frozenset({"type", "enum", "pattern", "minLength", "maxLength", "minimum", "maximum"})
"""Rules that judge a value; an unknown value is "any value of the right type", so they skip it."""
RULES = {
    "required": "required",
    "additionalProperties": "unknown property",
    "readOnly": "read-only",
    "x-not-vendored": "not vendored",
}

OPERATIONS: Mapping[str, tuple[str, str]] = {
    "azure-native:resources:ResourceGroup": (
        "resources-2024-03-01.json",
        "/subscriptions/{subscriptionId}/resourcegroups/{resourceGroupName}",
    ),
    "azure-native:storage:StorageAccount": (
        "storage-2024-01-01.json",
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.Storage/storageAccounts/{accountName}",
    ),
    "azure-native:keyvault:Vault": (
        "keyvault-2024-11-01.json",
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.KeyVault/vaults/{vaultName}",
    ),
    "azure-native:machinelearningservices:Workspace": (
        "machinelearningservices-2025-12-01.json",
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.MachineLearningServices/workspaces/{workspaceName}",
    ),
    "azure-native:machinelearningservices:MarketplaceSubscription": (
        "machinelearningservices-2025-12-01.json",
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.MachineLearningServices/workspaces/{workspaceName}/marketplaceSubscriptions/{name}",
    ),
    "azure-native:machinelearningservices:ServerlessEndpoint": (
        "machinelearningservices-2025-12-01.json",
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.MachineLearningServices/workspaces/{workspaceName}/serverlessEndpoints/{name}",
    ),
    "azure-native:authorization:RoleDefinition": (
        "authorization-2022-05-01-preview-roledefinitions.json",
        "/{scope}/providers/Microsoft.Authorization/roleDefinitions/{roleDefinitionId}",
    ),
    "azure-native:authorization:RoleAssignment": (
        "authorization-2022-04-01-roleassignments.json",
        "/{scope}/providers/Microsoft.Authorization/roleAssignments/{roleAssignmentName}",
    ),
    "azure-native:cognitiveservices:Account": (
        "cognitiveservices-2025-06-01.json",
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.CognitiveServices/accounts/{accountName}",
    ),
    "azure-native:cognitiveservices:Project": (
        "cognitiveservices-2025-06-01.json",
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.CognitiveServices/accounts/{accountName}/projects/{projectName}",
    ),
    "azure-native:cognitiveservices:Deployment": (
        "cognitiveservices-2025-06-01.json",
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.CognitiveServices/accounts/{accountName}/deployments/{deploymentName}",
    ),
    "azure-native:cognitiveservices:RaiPolicy": (
        "cognitiveservices-2025-06-01.json",
        "/subscriptions/{subscriptionId}/resourceGroups/{resourceGroupName}/providers/Microsoft.CognitiveServices/accounts/{accountName}/raiPolicies/{raiPolicyName}",
    ),
}
"""Every resource type the program creates, on both channels: the fragment and the path of its PUT operation."""

Node = Mapping[str, Any]
Located = tuple[str, Node]
"""A swagger node and the repository path of the document it sits in (relative ``$ref`` resolve against it)."""


@dataclass(frozen=True)
class Fragment:
    file: Path
    source: Mapping[str, Any]
    document: Mapping[str, Any]

    @property
    def path(self) -> str:
        return str(self.source["path"])

    @property
    def api_version(self) -> str | None:
        version = self.source.get("apiVersion")
        return None if version is None else str(version)


@functools.cache
def fragments() -> Mapping[str, Fragment]:
    """The vendored fragments, by the repository path of their source file."""
    out: dict[str, Fragment] = {}
    for file in sorted(SPECS_DIR.glob("*.json")):
        document = json.loads(file.read_text(encoding="utf-8"))
        fragment = Fragment(file=file, source=document["source"], document=document)
        out[fragment.path] = fragment
    return out


def fragment_file(name: str) -> Fragment:
    return next(f for f in fragments().values() if f.file.name == name)


def resolve(ref: str, base: str) -> Located | None:
    """The node ``ref`` points to from the document at ``base``; None when it was not vendored."""
    file_part, _, pointer = ref.partition("#")
    doc_path = posixpath.normpath(posixpath.join(posixpath.dirname(base), file_part)) if file_part else base
    fragment = fragments().get(doc_path)
    if fragment is None:
        return None
    node: Any = fragment.document
    for part in pointer.strip("/").split("/"):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return (doc_path, node) if isinstance(node, Mapping) else None


def deref(base: str, node: Node) -> Located:
    """Follow ``$ref`` as far as the vendored fragments go (a node whose target was not vendored keeps its ``$ref``)."""
    seen: set[tuple[str, str]] = set()
    while "$ref" in node and (base, node["$ref"]) not in seen:
        seen.add((base, node["$ref"]))
        target = resolve(node["$ref"], base)
        if target is None:
            break
        base, node = target
    return base, node


def is_read_only(base: str, node: Node) -> bool:
    """``readOnly`` on the property itself or on a definition it references."""
    if node.get("readOnly"):
        return True
    if "$ref" in node:
        target = resolve(node["$ref"], base)
        return target is not None and is_read_only(*target)
    return False


def is_writable(base: str, node: Node) -> bool:
    """Not read-only, and, for an object, with at least one member that is not read-only either."""
    if is_read_only(base, node):
        return False
    properties, _, additional = object_members(base, node)
    if not properties or additional is not None:
        return True
    return any(is_writable(*member) for member in properties.values())


def object_members(base: str, node: Node) -> tuple[dict[str, Located], set[str], Located | bool | None]:
    """Properties, required names and ``additionalProperties`` of an object, ``allOf`` parents merged in."""
    base, node = deref(base, node)
    properties: dict[str, Located] = {}
    required: set[str] = set()
    additional: Located | bool | None = None
    for parent in node.get("allOf", ()):
        p_props, p_required, p_additional = object_members(base, parent)
        properties.update(p_props)
        required |= p_required
        additional = p_additional if p_additional is not None else additional
    properties.update({name: (base, prop) for name, prop in node.get("properties", {}).items()})
    required |= set(node.get("required", ()))
    if isinstance(node.get("additionalProperties"), Mapping):
        additional = (base, node["additionalProperties"])
    elif isinstance(node.get("additionalProperties"), bool):
        additional = bool(node["additionalProperties"])
    return properties, required, additional


def client_name(wire: str, node: Node) -> str:
    """The name an SDK input carries: ``x-ms-client-name`` (first letter lowered) or the wire name."""
    name = node.get("x-ms-client-name")
    return wire if not name else str(name)[:1].lower() + str(name)[1:]


def sdk_fields(base: str, node: Node) -> dict[str, tuple[tuple[str, ...], Located]]:
    """SDK input name -> (wire path, property node); an ``x-ms-client-flatten`` container is replaced by its members."""
    properties, _, _ = object_members(base, node)
    fields: dict[str, tuple[tuple[str, ...], Located]] = {}
    for wire, (p_base, prop) in properties.items():
        if prop.get("x-ms-client-flatten"):
            inner, _, _ = object_members(p_base, prop)
            for inner_wire, (i_base, i_prop) in inner.items():
                fields[client_name(inner_wire, i_prop)] = ((wire, inner_wire), (i_base, i_prop))
        else:
            fields[client_name(wire, prop)] = ((wire,), (p_base, prop))
    return fields


@dataclass(frozen=True)
class Operation:
    type: str
    fragment: Fragment
    path: str
    path_parameters: Mapping[str, Located]
    body: Located


@functools.cache
def operation(type_: str) -> Operation:
    """The PUT the provider sends to create or update a resource of ``type_``."""
    file, path = OPERATIONS[type_]
    fragment = fragment_file(file)
    put = fragment.document["paths"][path]["put"]
    parameters: dict[str, Located] = {}
    body: Located | None = None
    for raw in put["parameters"]:
        base, param = deref(fragment.path, raw)
        if "$ref" in param:
            raise AssertionError(f"{fragment.file.name}: parameter {param['$ref']} of {path} is not vendored")
        if param["in"] == "path" and param["name"] not in PROVIDER_FILLED:
            parameters[param["name"]] = (base, param)
        elif param["in"] == "body":
            body = (base, param["schema"])
    assert body is not None, f"{fragment.file.name}: {path} has no body parameter"
    return Operation(type=type_, fragment=fragment, path=path, path_parameters=parameters, body=body)


def reveal(value: Any) -> Any:
    """The value a secret wraps (the provider sends the plain value)."""
    if isinstance(value, Mapping):
        if value.get(SECRET_SIG_KEY) == SECRET_SIG:
            return reveal(value.get("value"))
        return {k: reveal(v) for k, v in value.items()}
    if isinstance(value, list):
        return [reveal(v) for v in value]
    return value


def to_wire(value: Any, base: str, node: Node) -> Any:
    """An SDK input value in the shape it travels in: wire names, flattened members back in their container."""
    if value == UNKNOWN or value is None:
        return value
    base, node = deref(base, node)
    if isinstance(value, Mapping):
        fields = sdk_fields(base, node)
        if fields:
            out: dict[str, Any] = {}
            for key, item in value.items():
                if key not in fields:
                    out[key] = item  # not in the spec: left as is, for the unknown-property rule to report
                    continue
                wire_path, (f_base, f_node) = fields[key]
                target = out
                for segment in wire_path[:-1]:
                    target = target.setdefault(segment, {})
                target[wire_path[-1]] = to_wire(item, f_base, f_node)
            return out
        additional = node.get("additionalProperties")
        if isinstance(additional, Mapping):
            return {k: to_wire(v, base, additional) for k, v in value.items()}
        return dict(value)
    if isinstance(value, list) and isinstance(node.get("items"), Mapping):
        return [to_wire(v, base, node["items"]) for v in value]
    return value


@dataclass(frozen=True)
class Request:
    method: str
    url_parameters: Mapping[str, Any]
    body: Mapping[str, Any]


def request(type_: str, inputs: Mapping[str, Any]) -> Request:
    """The PUT the provider would send for a resource of ``type_`` with these (engine-form, camelCase) inputs."""
    op = operation(type_)
    plain = reveal(inputs)
    url = {name: plain[name] for name in op.path_parameters if name in plain}
    rest = {k: v for k, v in plain.items() if k not in op.path_parameters}
    return Request(method="PUT", url_parameters=url, body=to_wire(rest, *op.body))


def json_schema(base: str, node: Node, stack: tuple[tuple[str, str], ...] = ()) -> dict[str, Any]:
    """A swagger schema as JSON Schema, every ``$ref`` inlined, objects closed (see the module docstring)."""
    if is_read_only(base, node):
        return {"readOnly": True}
    if "$ref" in node:
        key = (base, str(node["$ref"]))
        target = resolve(node["$ref"], base)
        if target is None:
            return {"x-not-vendored": node["$ref"]}
        if key in stack:
            return {}
        inner = json_schema(*target, stack=(*stack, key))
        return _nullable(inner) if node.get("x-nullable") else inner
    out: dict[str, Any] = {}
    properties, required, additional = object_members(base, node)
    if properties:
        out["properties"] = {name: json_schema(p_base, prop, stack) for name, (p_base, prop) in properties.items()}
        if required:
            out["required"] = sorted(required)
    if isinstance(additional, tuple):
        out["additionalProperties"] = json_schema(*additional, stack=stack)
    elif additional is None and properties:
        out["additionalProperties"] = False
    kind = node.get("type") or ("object" if properties or additional is not None else None)
    if kind:
        out["type"] = kind
    for keyword in ("enum", "pattern", "minLength", "maxLength", "minimum", "maximum"):
        if keyword in node:
            out[keyword] = node[keyword]
    if isinstance(node.get("items"), Mapping):
        out["items"] = json_schema(base, node["items"], stack)
    return _nullable(out) if node.get("x-nullable") else out


def _nullable(schema: dict[str, Any]) -> dict[str, Any]:
    if isinstance(schema.get("type"), str):
        return {**schema, "type": [schema["type"], "null"]}
    return schema


def _required(validator: Any, required: Sequence[str], instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
    if isinstance(instance, Mapping):
        for name in required:
            if name not in instance:
                yield ValidationError("missing", path=deque([name]))


def _additional(validator: Any, additional: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
    if additional is False and isinstance(instance, Mapping):
        known = set(schema.get("properties", {}))
        for name in instance:
            if name not in known:
                yield ValidationError("not a property in the spec", path=deque([name]))
        return
    yield from jsonschema.Draft7Validator.VALIDATORS["additionalProperties"](validator, additional, instance, schema)


def _read_only(validator: Any, read_only: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
    if read_only:
        yield ValidationError("the service sets it; a request must not send it")


def _not_vendored(validator: Any, ref: Any, instance: Any, schema: Mapping[str, Any]) -> Iterator[Any]:
    yield ValidationError(f"{ref} is not vendored under tests/specs; vendor it to check this value")


Validator: Any = validators.extend(  # type: ignore[no-untyped-call]
    jsonschema.Draft7Validator,
    {
        "required": _required,
        "additionalProperties": _additional,
        "readOnly": _read_only,
        "x-not-vendored": _not_vendored,
    },
)


def json_path(parts: Sequence[Any]) -> str:
    return "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _detail(error: ValidationError) -> str:
    if error.validator == "enum":
        allowed = error.validator_value
        assert isinstance(allowed, list)
        return f"{error.instance!r} is not one of {allowed!r}"
    if error.validator == "pattern":
        return f"{error.instance!r} does not match {error.validator_value!r}"
    if error.validator == "type":
        return f"{error.instance!r} is not of type {error.validator_value!r}"
    if error.validator in {"minLength", "maxLength", "minimum", "maximum"}:
        return f"{error.instance!r} breaks {error.validator} {error.validator_value!r}"
    return error.message


def _messages(urn: str, where: str, instance: Any, schema: Mapping[str, Any]) -> list[str]:
    out = []
    for error in Validator(schema).iter_errors(instance):
        if error.validator in VALUE_RULES and error.instance == UNKNOWN:
            continue
        rule = RULES.get(str(error.validator), str(error.validator))
        place = json_path(list(error.absolute_path)) if where == "$" else where
        out.append(f"{urn}: {place}: {rule}: {_detail(error)}")
    return out


def violations(urn: str, type_: str, inputs: Mapping[str, Any]) -> list[str]:
    """Every way the request for this resource breaks the spec, one message each (empty when it conforms)."""
    op = operation(type_)
    req = request(type_, inputs)
    out: list[str] = []
    for name, (_, param) in op.path_parameters.items():
        where = f"path parameter {name}"
        if name not in req.url_parameters:
            out.append(f"{urn}: {where}: required: missing")
            continue
        schema = {k: param[k] for k in ("type", "pattern", "minLength", "maxLength", "enum") if k in param}
        out += _messages(urn, where, req.url_parameters[name], schema)
    out += _messages(urn, "$", req.body, json_schema(*op.body))
    return sorted(out)


# --- the installed SDK, compared with the fragments ---------------------------------------------------------------

_SDK_ROOT = "pulumi_azure_native"
_FORWARD_REF = re.compile(r"ForwardRef\('([A-Za-z_][A-Za-z0-9_]*)'\)")
_API_VERSION = re.compile(r"Uses Azure REST API version (\S+?)\.?\s")


def sdk_package(type_: str) -> Any:
    """The SDK package of ``type_``'s module, fully loaded.

    The SDK's packages load lazily; importing one of their submodules before the package has loaded leaves the
    package without its exports (for this process, the program included), so everything here goes through the
    package, after a first attribute access has loaded it."""
    package = importlib.import_module(f"{_SDK_ROOT}.{type_.split(':')[1]}")
    if not hasattr(package, "_enums"):  # the first attribute access loads the package
        raise AssertionError(f"{package.__name__} has no _enums")
    return package


def sdk_api_version(type_: str) -> str:
    """The API version the installed SDK's module for ``type_`` names in its docstring ("Uses Azure REST API
    version X")."""
    cls = getattr(sdk_package(type_), type_.split(":")[2])
    versions = set(_API_VERSION.findall(inspect.getsource(cls)))
    assert len(versions) == 1, f"{type_}: the SDK class names API versions {sorted(versions)}"
    return str(versions.pop())


def sdk_args(type_: str) -> type:
    cls = getattr(sdk_package(type_), f"{type_.split(':')[2]}Args")
    assert isinstance(cls, type)
    return cls


def sdk_inputs(cls: type) -> dict[str, str]:
    """An SDK ``...Args`` class's inputs: camelCase name -> the repr of its annotation."""
    out: dict[str, str] = {}
    for attribute, member in vars(cls).items():
        if isinstance(member, property) and member.fget is not None:
            name = getattr(member.fget, "_pulumi_name", attribute)
            out[str(name)] = repr(inspect.signature(member.fget).return_annotation)
    return out


@dataclass(frozen=True)
class Finding:
    """One difference between the SDK and the fragment, at ``where`` (a path of SDK input names)."""

    kind: str
    """``sdk-only`` (an input the spec has no property for), ``spec-only`` (a writable property the SDK does not
    offer), ``enum`` (an input typed by an SDK enum) or ``not vendored`` (the spec schema was trimmed out)."""
    where: str
    enum: str | None = None
    sdk_values: tuple[str, ...] = ()
    spec_values: tuple[str, ...] | None = None


def _element(base: str, node: Node) -> Located:
    """The object or scalar under arrays and maps."""
    base, node = deref(base, node)
    while True:
        if isinstance(node.get("items"), Mapping):
            base, node = deref(base, node["items"])
        elif isinstance(node.get("additionalProperties"), Mapping) and not node.get("properties"):
            base, node = deref(base, node["additionalProperties"])
        else:
            return base, node


def compare_sdk(type_: str) -> list[Finding]:
    """Walk the SDK's input classes for ``type_`` alongside the spec body of its PUT and list every difference."""
    op = operation(type_)
    module = sdk_package(type_)
    enums = module._enums
    out: list[Finding] = []

    def walk(cls: type, base: str, node: Node, prefix: str, skip: frozenset[str]) -> None:
        fields = sdk_fields(base, node)
        inputs = {k: v for k, v in sdk_inputs(cls).items() if k not in skip}
        for name, annotation in sorted(inputs.items()):
            where = prefix + name
            if name not in fields:
                out.append(Finding("sdk-only", where))
                continue
            _, (f_base, f_node) = fields[name]
            if is_read_only(f_base, f_node):
                out.append(Finding("sdk-only", where + " (read-only in the spec)"))
                continue
            e_base, e_node = _element(f_base, f_node)
            if "$ref" in e_node:
                out.append(Finding("not vendored", where))
                continue
            for ref in dict.fromkeys(_FORWARD_REF.findall(annotation)):
                enum = getattr(enums, ref, None)
                if isinstance(enum, type) and issubclass(enum, Enum):
                    spec = e_node.get("enum")
                    out.append(
                        Finding(
                            "enum",
                            where,
                            enum=ref,
                            sdk_values=tuple(str(m.value) for m in enum),
                            spec_values=None if spec is None else tuple(spec),
                        )
                    )
                elif ref.endswith("Args"):
                    nested = getattr(module, ref)
                    suffix = "[]" if isinstance(deref(f_base, f_node)[1].get("items"), Mapping) else ""
                    walk(nested, e_base, e_node, f"{where}{suffix}.", frozenset())
        for name, (_, (f_base, f_node)) in sorted(fields.items()):
            if name not in inputs and name not in skip and is_writable(f_base, f_node):
                out.append(Finding("spec-only", prefix + name))

    walk(sdk_args(type_), *op.body, "", frozenset(op.path_parameters))
    return out
