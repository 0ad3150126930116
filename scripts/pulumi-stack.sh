#!/usr/bin/env bash
# Run the Pulumi command of one GitOps operation on a stack, with the policy pack and, when the stack has one,
# its policy config (scripts/policy-config.sh):
#   preview  pulumi preview --diff                                             (pull requests; on GitHub Actions
#                                                                               through scripts/preview-markdown.sh)
#   up       pulumi up --yes --diff --suppress-outputs                         (main)
#   drift    pulumi preview --refresh --expect-no-changes --diff --suppress-outputs, through
#            scripts/pulumi-lock-retry.sh, so a locked stack makes it wait     (the daily drift check)
# The same on GitHub Actions (after pulumi/actions installed the CLI, without a `command`, so that no stack output
# becomes a step output) and on Azure Pipelines (scripts/pulumi-ci.sh). Nothing here reads the stack outputs.
# Needs the Pulumi CLI on PATH, its backend (pulumi login, or PULUMI_BACKEND_URL, which the CLI takes before any
# stored login) and Azure credentials: on GitHub Actions the job's azure/login, on Azure Pipelines
# scripts/pulumi-ci.sh's.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() { printf 'pulumi-stack: %s\n' "$*" >&2; exit 2; }

(($# == 2)) || die "usage: scripts/pulumi-stack.sh preview|up|drift STACK"
operation="$1"
stack="$2"
[[ "$stack" =~ ^[A-Za-z0-9_.-]+$ ]] || die "'${stack}' is not a stack name"
run=(pulumi)
case "$operation" in
  preview) args=(preview --diff) ;;
  up) args=(up --yes --diff --suppress-outputs) ;;
  drift)
    args=(preview --refresh --expect-no-changes --diff --suppress-outputs)
    run=("${here}/pulumi-lock-retry.sh")
    ;;
  *) die "unknown operation '${operation}' (preview, up or drift)" ;;
esac

args+=(--stack "$stack" --policy-pack policies)
config="$("${here}/policy-config.sh" "$stack")"
if [[ -n "$config" ]]; then args+=(--policy-pack-config "$config"); fi
exec "${run[@]}" "${args[@]}" --non-interactive
