#!/usr/bin/env bash
# Print the stack's policy config file, Pulumi.<stack>.policy.json in the current directory (beside Pulumi.yaml),
# when it exists, and nothing when it does not: the policy pack then runs with its defaults. The pipelines pass
# it as `--policy-pack-config FILE` to every Pulumi command that runs the pack and to `maas plan`. This is the
# one place shell and YAML spell the name; the program's is infra.engine.stack_files.POLICY_CONFIG_FILE, and
# tests/test_gitops.py keeps the two equal.
set -euo pipefail

(($# == 1)) || { echo "usage: scripts/policy-config.sh STACK" >&2; exit 2; }
stack="$1"
[[ "$stack" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "policy-config: '${stack}' is not a stack name" >&2; exit 2; }

file="Pulumi.${stack}.policy.json"
if [[ -f "$file" ]]; then
  echo "policy-config: stack ${stack} runs the policy pack with ${file}" >&2
  printf '%s\n' "$file"
else
  echo "policy-config: no ${file}: stack ${stack} runs the policy pack with its defaults" >&2
fi
