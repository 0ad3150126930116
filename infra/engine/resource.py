"""One record of a resource, as the engine registers it and describes it to analyzers: what the capturing
monitor records (:mod:`infra.engine.capture`) is what the policy pack is sent (:mod:`infra.engine.analyzer`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Resource:
    """A registered resource. ``inputs`` are in the engine's form: plain JSON where known, a value unknown at
    preview is the string ``pulumi.runtime.rpc.UNKNOWN``, a secret stays wrapped in its signature."""

    urn: str
    type: str
    name: str
    inputs: Mapping[str, Any]
    custom: bool = True
    """False for a component resource (it has no provider and no Azure counterpart)."""
    parent: str = ""
    dependencies: tuple[str, ...] = ()
    property_dependencies: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """The URNs each input waited for, by input name."""
    protect: bool = False
    delete_before_replace: bool | None = None
    """As the program set it; None when it did not (the engine then sends ``deleteBeforeReplaceDefined: false``)."""
