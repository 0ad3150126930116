"""``python -m infra.cli``: the same as ``maas``."""

from infra.cli.app import run

run()
