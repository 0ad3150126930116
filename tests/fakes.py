"""Stand-ins for the command-line tools the GitOps scripts call (az, gh, uv, pulumi, curl), so the scripts
run end to end here without a network: each fake records its arguments (and the files it was handed as
``@path``, ``name=@path`` or ``--input path``) and answers from a rule table."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

_FAKE = """#!{python}
import json, os, subprocess, sys
from pathlib import Path

state = Path(os.environ["FAKE_STATE"])
name = Path(sys.argv[0]).name
argv = sys.argv[1:]
files = {{a[1:]: Path(a[1:]).read_text() for a in argv if a.startswith("@") and Path(a[1:]).is_file()}}
files.update({{a.split("=@", 1)[1]: Path(a.split("=@", 1)[1]).read_text()
              for a in argv if "=@" in a and Path(a.split("=@", 1)[1]).is_file()}})
files.update({{b: Path(b).read_text() for a, b in zip(argv, argv[1:]) if a == "--input" and Path(b).is_file()}})
env = {{k: os.environ[k] for k in json.loads(os.environ.get("FAKE_ENV_KEYS", "[]")) if k in os.environ}}
with (state / "calls.jsonl").open("a") as log:
    log.write(json.dumps({{"tool": name, "argv": argv, "files": files, "env": env}}) + "\\n")
for number, rule in enumerate(json.loads((state / "rules.json").read_text())):
    if rule["tool"] == name and all(token in argv for token in rule["match"]):
        if "times" in rule:  # a rule that answers only its first N matching calls
            counter = state / f"rule{{number}}.count"
            used = int(counter.read_text()) if counter.exists() else 0
            if used >= rule["times"]:
                continue
            counter.write_text(str(used + 1))
        out = rule.get("stdout", "")
        if name == "gh" and "--jq" in argv:
            expr = argv[argv.index("--jq") + 1]
            out = subprocess.run(["jq", "-r", expr], input=out, capture_output=True, text=True, check=True).stdout
        if rule.get("exec"):
            os.execvp(rule["exec"][0], rule["exec"] + argv[rule.get("skip", 0):])
        sys.stdout.write(out)
        sys.stderr.write(rule.get("stderr", ""))
        sys.exit(rule.get("exit", 0))
sys.exit(0)
"""


@dataclass
class Call:
    tool: str
    argv: list[str]
    files: dict[str, str]
    env: dict[str, str]


@dataclass
class Fakes:
    """A directory of fake tools first on PATH, their rules and what they were called with."""

    root: Path
    rules: list[dict[str, Any]] = field(default_factory=list)

    @property
    def bin(self) -> Path:
        return self.root / "bin"

    def add(self, *tools: str) -> None:
        self.bin.mkdir(parents=True, exist_ok=True)
        for tool in tools:
            path = self.bin / tool
            path.write_text(_FAKE.format(python=sys.executable), encoding="utf-8")
            path.chmod(path.stat().st_mode | stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)

    def answer(self, tool: str, match: list[str], **how: Any) -> None:
        """When ``tool`` is called with every token of ``match``: print ``stdout`` (and ``stderr``), exit
        ``exit``, or ``exec`` a real command with the arguments after the first ``skip``; with ``times``, only
        for the first N such calls. The first matching rule wins."""
        self.rules.append({"tool": tool, "match": match, **how})

    def reset(self) -> None:
        """Write the rules, forget earlier calls and rule counts (before a run)."""
        (self.root / "rules.json").write_text(json.dumps(self.rules), encoding="utf-8")
        (self.root / "calls.jsonl").write_text("", encoding="utf-8")
        for counter in self.root.glob("rule*.count"):
            counter.unlink()

    def run(
        self,
        command: list[str],
        *,
        env: dict[str, str] | None = None,
        record_env: tuple[str, ...] = (),
        cwd: Path | None = None,
    ) -> subprocess.CompletedProcess[str]:
        self.reset()
        base = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "TF_BUILD", "ARM_"))}
        full = {
            **base,
            "PATH": f"{self.bin}{os.pathsep}{os.environ['PATH']}",
            "FAKE_STATE": str(self.root),
            "FAKE_ENV_KEYS": json.dumps(list(record_env)),
            **(env or {}),
        }
        return subprocess.run(command, capture_output=True, text=True, env=full, cwd=cwd, timeout=120, check=False)

    def calls(self, tool: str | None = None) -> list[Call]:
        lines = (self.root / "calls.jsonl").read_text(encoding="utf-8").splitlines()
        found = [Call(**json.loads(line)) for line in lines]
        return [c for c in found if tool is None or c.tool == tool]


class Credential:
    """azure-identity's shape: ``get_token(*scopes)`` returns an object with ``.token``; records the scopes
    it was asked for, or raises ``error``."""

    def __init__(self, token: str, error: Exception | None = None) -> None:
        self.token, self.error = token, error
        self.scopes: list[tuple[str, ...]] = []

    def get_token(self, *scopes: str) -> Any:
        self.scopes.append(scopes)
        if self.error is not None:
            raise self.error
        return type("AccessToken", (), {"token": self.token})()
