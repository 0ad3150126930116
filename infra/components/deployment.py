"""ModelDeployment: a serverless endpoint and, where its model needs one, the marketplace subscription."""

from __future__ import annotations

import pulumi

from infra.azure_native import machinelearningservices as ml
from infra.components.args import ModelDeploymentArgs
from infra.names import CHAT_ROUTE, NATIVE_CHAT_ROUTE


class ModelDeployment(pulumi.ComponentResource):
    """A partner model served as a serverless API (sku ``Consumption``) in one workspace.

    The endpoint depends on its marketplace subscription (deleting the subscription would leave it
    unusable, so the endpoint goes first) and is replaced delete-before-create: the old endpoint holds
    the workspace's only slot for the model and the name in the region. Keys are read with
    ``listServerlessEndpointKeys`` only for ``Key`` and ``KeyAndAAD`` endpoints and are Pulumi secrets.
    """

    TYPE = "azure-maas:index:ModelDeployment"

    endpoint_id: pulumi.Output[str]
    inference_uri: pulumi.Output[str]
    chat_completions_url: pulumi.Output[str] | None
    native_chat_completions_url: pulumi.Output[str] | None
    """None for a model that does not answer chat completions (OCR / document AI)."""
    primary_key: pulumi.Output[str] | None
    secondary_key: pulumi.Output[str] | None

    def __init__(self, name: str, args: ModelDeploymentArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        """``name``: the endpoint's name, unique in the stack (settings validation). The component is a child of
        ``args.workspace`` unless ``opts`` names another parent."""
        super().__init__(
            self.TYPE, name, None, pulumi.ResourceOptions.merge(pulumi.ResourceOptions(parent=args.workspace), opts)
        )
        spec, workspace = args.spec, args.workspace
        location, tags = args.placement.location, args.placement.tags
        depends_on: list[pulumi.Resource] = []
        if spec.subscription is not None:
            subscription = ml.MarketplaceSubscription(
                f"{name}-subscription",
                name=spec.subscription.name,
                resource_group_name=workspace.resource_group_name,
                workspace_name=workspace.workspace_name,
                properties=ml.MarketplaceSubscriptionPropertiesArgs(model_id=spec.subscription.model_id),
                opts=pulumi.ResourceOptions(parent=self),
            )
            depends_on.append(subscription)
        endpoint = ml.ServerlessEndpoint(
            f"{name}-endpoint",
            name=spec.name,
            resource_group_name=workspace.resource_group_name,
            workspace_name=workspace.workspace_name,
            location=location,
            sku=ml.SkuArgs(name="Consumption"),
            properties=ml.ServerlessEndpointPropertiesArgs(
                auth_mode=spec.auth_mode,
                model_settings=ml.ModelSettingsArgs(model_id=spec.model_id),
                content_safety=ml.ContentSafetyArgs(
                    content_safety_status=ml.ContentSafetyStatus.ENABLED
                    if spec.content_safety
                    else ml.ContentSafetyStatus.DISABLED
                ),
            ),
            tags=dict(tags),
            opts=pulumi.ResourceOptions(parent=self, depends_on=depends_on, delete_before_replace=True),
        )
        self.endpoint_id = endpoint.id

        # The inference URI is read-only: absent while a create is previewed (the endpoint's ID is unknown
        # then, so waiting on the ID keeps the URI unknown instead of reading a missing field).
        def properties_once_created(_: str) -> pulumi.Output[ml.outputs.ServerlessEndpointPropertiesResponse]:
            return endpoint.properties

        created: pulumi.Output[ml.outputs.ServerlessEndpointPropertiesResponse] = endpoint.id.apply(
            properties_once_created
        )
        self.inference_uri = created.apply(lambda properties: _inference_uri(spec.name, properties))
        # An OCR / document AI model answers no chat route: it gets no chat URLs, so nothing sends it a chat.
        self.chat_completions_url = self.native_chat_completions_url = None
        if spec.api == "chat":
            self.chat_completions_url = self.inference_uri.apply(lambda uri: uri + CHAT_ROUTE)
            self.native_chat_completions_url = self.inference_uri.apply(lambda uri: uri + NATIVE_CHAT_ROUTE)
        self.primary_key = self.secondary_key = None
        outputs: dict[str, object] = {
            "endpointId": self.endpoint_id,
            "inferenceUri": self.inference_uri,
            "chatCompletionsUrl": self.chat_completions_url,
            "nativeChatCompletionsUrl": self.native_chat_completions_url,
        }
        if spec.has_keys:
            keys = ml.list_serverless_endpoint_keys_output(
                name=endpoint.name,
                resource_group_name=workspace.resource_group_name,
                workspace_name=workspace.workspace_name,
                opts=pulumi.InvokeOutputOptions(parent=self, depends_on=[endpoint]),
            )
            self.primary_key = pulumi.Output.secret(keys.primary_key)
            self.secondary_key = pulumi.Output.secret(keys.secondary_key)
            outputs |= {"primaryKey": self.primary_key, "secondaryKey": self.secondary_key}
        self.register_outputs(outputs)


def _inference_uri(name: str, properties: ml.outputs.ServerlessEndpointPropertiesResponse) -> str:
    endpoint = properties.inference_endpoint
    if endpoint is None or not endpoint.uri:
        raise pulumi.RunError(f"serverless endpoint {name!r} reports no inference URI; check it in the Azure portal")
    return endpoint.uri.rstrip("/")
