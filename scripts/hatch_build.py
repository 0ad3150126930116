"""The build hook that keeps azure-maas an application (``[tool.hatch.build.hooks.custom]`` in pyproject.toml).

azure-maas is a Pulumi project that teams fork and run from a clone: ``uv sync``, then ``uv run maas ...`` and
``pulumi up``. The program, the policy pack's directory (``policies/``: ``PulumiPolicy.yaml``, ``__main__.py``,
``requirements.txt``), the catalog and the stack files are used where they sit in the clone, so a wheel or an
sdist would ship a ``maas`` that cannot find them, under generic top-level names (``infra``,
``azure_maas_policy``). The build backend therefore does one thing: the editable install that ``uv sync`` makes
(the ``maas`` script, the distribution's metadata, and a ``.pth`` file that puts the clone on ``sys.path``).
Every other build (``uv build``, ``python -m build``, ``pip wheel .``, ``hatch build``) stops here with
:data:`MESSAGE`. docs/contributing.md#packaging says the same for people.
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.config import BuilderConfig
from hatchling.builders.hooks.plugin.interface import BuildHookInterface

MESSAGE = (
    "azure-maas is an application run from a clone of its repository (uv sync; uv run maas ...), "
    "not a package: it builds no wheel or sdist"
)
"""What every refused build says (tests/test_packaging.py and docs/contributing.md quote it)."""

ALLOWED = ("wheel", "editable")
"""The one build the backend makes: hatchling's ``wheel`` target, version ``editable`` (PEP 660, ``uv sync``)."""


class ApplicationOnly(BuildHookInterface[BuilderConfig]):
    """Refuses every build but the editable install, before any file is collected."""

    PLUGIN_NAME = "application-only"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        """Hatchling calls this before building ``version`` of the hook's target (``wheel``: ``standard`` or
        ``editable``; ``sdist``: ``standard``)."""
        if (self.target_name, version) != ALLOWED:
            raise SystemExit(MESSAGE)
