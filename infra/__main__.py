"""Entry point Pulumi runs (``main: infra/`` in Pulumi.yaml)."""

from infra.program import main

main()
