"""The stack outputs the program exports (:func:`infra.program.build`), each with its meaning: docs/configuration.md
shows them and a test holds them to what the program exports. ``<name>`` stands for a config name (a workspace's
or an endpoint's)."""

from __future__ import annotations

STACK_OUTPUTS: dict[str, str] = {
    "resourceGroup": "The resource group.",
    "resourceGroup.name": "Its name.",
    "resourceGroup.id": "Its resource ID.",
    "hub": "The Foundry hub, or null without `hub`.",
    "hub.name": "Its name (for an existing hub, taken from its ID).",
    "hub.id": "Its resource ID.",
    "workspaces": "By config name, each workspace (or project).",
    "workspaces.<name>": "One workspace.",
    "workspaces.<name>.name": "Its Azure name.",
    "workspaces.<name>.id": "Its resource ID.",
    "endpoints": "By endpoint name, each serverless endpoint.",
    "endpoints.<name>": "One endpoint.",
    "endpoints.<name>.workspace": "The config name of its workspace.",
    "endpoints.<name>.modelId": "The model ID it deploys.",
    "endpoints.<name>.api": "`chat`, or `ocr` for a model that answers no chat route.",
    "endpoints.<name>.inferenceUri": "The endpoint's inference URI.",
    "endpoints.<name>.chatCompletionsUrl": "`{inferenceUri}/chat/completions`, or null for an `ocr` model.",
    "endpoints.<name>.nativeChatCompletionsUrl": "`{inferenceUri}/v1/chat/completions`, or null for an `ocr` model.",
    "endpoints.<name>.authMode": "`Key`, `AAD` or `KeyAndAAD`.",
    "endpoints.<name>.contentSafety": "Whether Azure AI Content Safety is on.",
    "endpoints.<name>.rateLimits": "The serverless rate limits: `tokensPerMinute`, `requestsPerMinute`.",
    "endpointKeys": "A secret: by endpoint name, its keys; only `Key` and `KeyAndAAD` endpoints have keys.",
    "endpointKeys.<name>": "One endpoint's keys: `primaryKey`, `secondaryKey`.",
}
