#!/usr/bin/env bash
# After `pulumi up`: `maas smoke --stack STACK`, one tiny chat completion to each endpoint and Foundry deployment of
# the stack, as the signed-in deploy identity (Entra ID tokens from azure-identity's DefaultAzureCredential, which
# finds the Azure CLI sign-in; keys from the stack outputs). maas smoke reads the outputs itself, with `pulumi stack
# output --json --show-secrets` inside its own process, so keys never reach a file, a variable, a step output or
# the log. This adds one line to the run summary (GitHub Actions: GITHUB_STEP_SUMMARY; Azure Pipelines: an
# uploaded summary) and an error annotation when the smoke fails, and exits with maas smoke's exit code, so the
# deploy job fails with it.
set -euo pipefail

(($# == 1)) || { echo "usage: scripts/deploy-smoke.sh STACK" >&2; exit 2; }
stack="$1"
[[ "$stack" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "deploy-smoke: '${stack}' is not a stack name" >&2; exit 2; }

code=0
uv run --locked maas smoke --stack "$stack" || code=$?
case "$code" in
  0) verdict="passed: every endpoint and Foundry deployment answered" ;;
  1) verdict="failed: a check failed (the table in the log says which)" ;;
  2) verdict="failed: unreadable outputs, an invalid selection or a credential that would go elsewhere" ;;
  *) verdict="failed: internal failure" ;;
esac
line="maas smoke --stack ${stack} ${verdict} (exit code ${code})"

if [[ -n "${GITHUB_STEP_SUMMARY-}" ]]; then
  printf -- '- %s\n' "$line" >>"$GITHUB_STEP_SUMMARY"
  if ((code != 0)); then echo "::error title=maas smoke ${stack}::${line}"; fi
fi
if [[ -n "${TF_BUILD-}" ]]; then
  summary="${AGENT_TEMPDIRECTORY:-${TMPDIR:-/tmp}}/smoke-${stack}.md"
  printf -- '- %s\n' "$line" >"$summary"
  echo "##vso[task.uploadsummary]${summary}"
  if ((code != 0)); then echo "##vso[task.logissue type=error]${line}"; fi
fi
echo "deploy-smoke: ${line}" >&2
exit "$code"
