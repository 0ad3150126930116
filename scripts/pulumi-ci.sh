#!/usr/bin/env bash
# Run one step of the GitOps flow on a CI agent that is already signed in to Azure (the Azure Pipelines AzureCLI@2
# task with a workload identity federation service connection): install the pinned Pulumi CLI and both Python
# environments, sign in to the Blob backend, then run
#   preview  pulumi preview --diff with the policy pack                    (pull requests)
#   up       pulumi up --yes with the policy pack                          (main)
#   drift    pulumi preview --refresh --expect-no-changes with the pack,   (schedule)
#            waiting while the stack is locked
#   smoke    maas smoke --stack STACK, after up                            (main)
# (preview, up and drift: scripts/pulumi-stack.sh, which adds the stack's policy config when it has one; smoke:
# scripts/deploy-smoke.sh). Needs PULUMI_BACKEND_URL and PULUMI_VERSION; takes the OIDC token of the AzureCLI@2
# task (idToken, servicePrincipalId, tenantId, from addSpnToEnvironment) for the azure-native provider. preview and
# drift run on the read-only preview connection (id-maas-preview: they write no state), up and smoke on the deploy
# one: smoke in a task of its own, which signs in anew after a long `pulumi up`.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

die() { printf 'pulumi-ci: %s\n' "$*" >&2; exit 2; }

(($# == 2)) || die "usage: scripts/pulumi-ci.sh preview|up|drift|smoke STACK"
operation="$1"
stack="$2"
[[ "$stack" =~ ^[A-Za-z0-9_.-]+$ ]] || die "'${stack}' is not a stack name"
case "$operation" in
  preview | up | drift | smoke) ;;
  *) die "unknown operation '${operation}' (preview, up, drift or smoke)" ;;
esac
[[ -n "${PULUMI_BACKEND_URL-}" ]] || die "PULUMI_BACKEND_URL is not set (azblob://<container>?storage_account=<account>)"
[[ "${PULUMI_VERSION-}" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "PULUMI_VERSION must be a version such as 3.272.0"
[[ -n "${idToken-}" && -n "${servicePrincipalId-}" && -n "${tenantId-}" ]] ||
  die "no OIDC token: run this in AzureCLI@2 with addSpnToEnvironment: true and a workload identity federation connection"

export ARM_USE_OIDC=true ARM_OIDC_TOKEN="$idToken" ARM_CLIENT_ID="$servicePrincipalId" ARM_TENANT_ID="$tenantId"
ARM_SUBSCRIPTION_ID="$(az account show --query id --output tsv)"
export ARM_SUBSCRIPTION_ID
export PULUMI_SKIP_UPDATE_CHECK=true

# An earlier task of the job may have installed the CLI; its PATH did not outlive that task.
if ! command -v pulumi >/dev/null && [[ -x "${HOME}/.pulumi/bin/pulumi" ]]; then
  export PATH="${HOME}/.pulumi/bin:${PATH}"
fi
if ! command -v pulumi >/dev/null || [[ "$(pulumi version)" != "v${PULUMI_VERSION}" ]]; then
  curl -fsSL https://get.pulumi.com | sh -s -- --version "$PULUMI_VERSION"
  export PATH="${HOME}/.pulumi/bin:${PATH}"
fi
command -v uv >/dev/null || python3 -m pip install --quiet uv
uv sync --locked
if [[ "$operation" != smoke ]]; then
  uv venv --quiet policies/venv
  uv pip install --quiet --python policies/venv/bin/python -r policies/requirements.txt
fi

pulumi login "$PULUMI_BACKEND_URL"
if [[ "$operation" == smoke ]]; then
  exec "${here}/deploy-smoke.sh" "$stack"
fi
exec "${here}/pulumi-stack.sh" "$operation" "$stack"
