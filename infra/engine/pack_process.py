"""Start a policy pack's process, as the Pulumi engine does, and stop it.

The process (the policy SDK's ``python -u -m pulumi.policy <engine> <pack>``, working directory the pack, the
stack in ``PULUMI_*`` variables) takes about half a second to import the policy SDK and the pack. It runs the
SDK's ``__main__`` as ``-m`` would, behind :data:`LAUNCHER`, which ends the process once its standard input, a pipe
that only the process that started it holds, ends: a pack never outlives the process that started it, even one
killed without a chance to stop it (SIGKILL, the out-of-memory killer, a crash). This module needs only the
standard library, so ``maas plan`` starts the pack before it imports the Pulumi SDK and the program, and the
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
from typing import IO, Final

DEFAULT_PACK_DIR = Path(__file__).resolve().parents[2] / "policies"
"""The azure-maas policy pack in this repository."""
DEFAULT_ORGANIZATION = "organization"
"""The organization a stack has when the backend names none (a self-managed backend), as the policy SDK assumes."""
LAUNCHER: Final = """\
import os, runpy, threading

def watch():
    try:
        while os.read(0, 4096):
            pass
    finally:
        os._exit(1)

threading.Thread(target=watch, name="maas-parent-watch", daemon=True).start()
runpy.run_module("pulumi.policy", run_name="__main__", alter_sys=True)
"""
"""What the pack's interpreter runs (``python -u -c``, the arguments as for ``-m pulumi.policy``): a thread that
ends the process when standard input ends, then the policy SDK's ``__main__`` as ``-m`` runs it (the pack's
directory first on ``sys.path``, ``sys.argv[1:]`` the engine and the pack). Nothing is ever written to that input;
the Pulumi engine, which runs packs its own way, is not concerned."""
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
    pipe, where it prints its port; its stdin a pipe, see :data:`LAUNCHER`) and a file holding its stderr."""

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
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                with contextlib.suppress(OSError):
                    pipe.close()
        self.stderr.close()


def start(pack_dir: Path, variables: Mapping[str, str], *, python: str = sys.executable) -> PackProcess:
    """Start the pack in ``pack_dir`` with the ``PULUMI_*`` ``variables`` (see :func:`environment`)."""
    pack_dir = pack_dir.resolve()
    stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process; closed in stop()
    try:
        process = subprocess.Popen(
            [python, "-u", "-c", LAUNCHER, ENGINE_ADDRESS, str(pack_dir)],
            cwd=pack_dir,
            env={**os.environ, **variables},
            stdin=subprocess.PIPE,  # see LAUNCHER
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
