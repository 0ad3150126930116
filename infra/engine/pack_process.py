"""Start a policy pack's process, as the Pulumi engine does, and stop it.

The process (``python -u -m pulumi.policy <engine> <pack>``, working directory the pack, the stack in
``PULUMI_*`` variables) takes about half a second to import the policy SDK and the pack. This module needs only
the standard library, so ``maas plan`` starts the pack before it imports the Pulumi SDK and the program, and the
pack's start overlaps both; :class:`infra.engine.analyzer.PolicyPackSession` then connects to it.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import IO

DEFAULT_PACK_DIR = Path(__file__).resolve().parents[2] / "policies"
"""The azure-maas policy pack in this repository."""
DEFAULT_ORGANIZATION = "organization"
"""The organization a stack has when the backend names none (a self-managed backend), as the policy SDK assumes."""
ENGINE_ADDRESS = "127.0.0.1:0"
"""The engine's address the pack is given. The Python policy SDK does not use it (its logs go to stderr); the
engine passes its own, a placeholder serves."""


def environment(
    project: str, stack: str, *, organization: str, dry_run: bool, config: Mapping[str, str]
) -> dict[str, str]:
    """The ``PULUMI_*`` variables the engine gives a pack for a stack (``config``: fully qualified keys)."""
    return {
        "PULUMI_PROJECT": project,
        "PULUMI_STACK": stack,
        "PULUMI_ORGANIZATION": organization,
        "PULUMI_DRY_RUN": "true" if dry_run else "false",
        "PULUMI_CONFIG": json.dumps(dict(config)),
    }


def preview_environment(project: str, stack: str) -> dict[str, str]:
    """:func:`environment` for ``maas plan``'s preview of a stack: the default organization, no config."""
    return environment(project, stack, organization=DEFAULT_ORGANIZATION, dry_run=True, config={})


@dataclass
class PackProcess:
    """A started pack: its directory, the ``PULUMI_*`` variables it was started with, the process (its stdout a
    pipe, where it prints its port) and a file holding its stderr."""

    pack_dir: Path
    variables: Mapping[str, str]
    process: subprocess.Popen[bytes]
    stderr: IO[bytes]

    def stop(self) -> None:
        """Terminate the process (kill it if it lingers) and close its pipe and file; again, nothing."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout is not None:
            self.process.stdout.close()
        self.stderr.close()


def start(pack_dir: Path, variables: Mapping[str, str], *, python: str = sys.executable) -> PackProcess:
    """Start the pack in ``pack_dir`` with the ``PULUMI_*`` ``variables`` (see :func:`environment`)."""
    pack_dir = pack_dir.resolve()
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process; closed in stop()
    try:
        process = subprocess.Popen(
            [python, "-u", "-m", "pulumi.policy", ENGINE_ADDRESS, str(pack_dir)],
            cwd=pack_dir,
            env={**os.environ, **variables},
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=stderr,
        )
    except BaseException:
        with contextlib.suppress(OSError):
            stderr.close()
        raise
    return PackProcess(pack_dir, dict(variables), process, stderr)


@contextlib.contextmanager
def preview_pack(project: str, stack: str) -> Iterator[PackProcess]:
    """The azure-maas pack started for ``maas plan``'s preview of ``stack`` (:func:`preview_environment`), for the
    ``with`` block to hand to :func:`infra.engine.preview.run_preview`; stopped when the block exits, however it
    exits (stopping a pack the preview stopped already does nothing)."""
    pack = start(DEFAULT_PACK_DIR, preview_environment(project, stack))
    try:
        yield pack
    finally:
        pack.stop()
