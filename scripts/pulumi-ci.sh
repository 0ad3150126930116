#!/usr/bin/env bash
# Run one Pulumi operation of the GitOps flow on a CI agent that is already signed in to Azure (the Azure
# Pipelines AzureCLI@2 task with a workload identity federation service connection): install the pinned
# Pulumi CLI and both Python environments, sign in to the Blob backend, then run
#   preview  pulumi preview --diff with the policy pack                    (pull requests)
#   up       pulumi up --yes with the policy pack                          (main)
#   drift    pulumi preview --refresh --expect-no-changes with the pack    (schedule)
# Needs PULUMI_BACKEND_URL and PULUMI_VERSION; takes the OIDC token of the AzureCLI@2 task (idToken,
# servicePrincipalId, tenantId, from addSpnToEnvironment) for the azure-native provider. preview and drift
# run on the read-only preview connection (id-maas-preview: they write no state), up on the deploy one.
set -euo pipefail

die() { printf 'pulumi-ci: %s\n' "$*" >&2; exit 2; }

(($# == 2)) || die "usage: scripts/pulumi-ci.sh preview|up|drift STACK"
operation="$1"
stack="$2"
[[ "$stack" =~ ^[A-Za-z0-9_.-]+$ ]] || die "'${stack}' is not a stack name"
case "$operation" in
  preview) pulumi_args=(preview --diff) ;;
  up) pulumi_args=(up --yes --diff --suppress-outputs) ;;
  drift) pulumi_args=(preview --refresh --expect-no-changes --diff --suppress-outputs) ;;
  *) die "unknown operation '${operation}' (preview, up or drift)" ;;
esac
[[ -n "${PULUMI_BACKEND_URL-}" ]] || die "PULUMI_BACKEND_URL is not set (azblob://<container>?storage_account=<account>)"
[[ "${PULUMI_VERSION-}" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "PULUMI_VERSION must be a version such as 3.272.0"
[[ -n "${idToken-}" && -n "${servicePrincipalId-}" && -n "${tenantId-}" ]] ||
  die "no OIDC token: run this in AzureCLI@2 with addSpnToEnvironment: true and a workload identity federation connection"

export ARM_USE_OIDC=true ARM_OIDC_TOKEN="$idToken" ARM_CLIENT_ID="$servicePrincipalId" ARM_TENANT_ID="$tenantId"
ARM_SUBSCRIPTION_ID="$(az account show --query id --output tsv)"
export ARM_SUBSCRIPTION_ID
export PULUMI_SKIP_UPDATE_CHECK=true

if ! command -v pulumi >/dev/null || [[ "$(pulumi version)" != "v${PULUMI_VERSION}" ]]; then
  curl -fsSL https://get.pulumi.com | sh -s -- --version "$PULUMI_VERSION"
  export PATH="${HOME}/.pulumi/bin:${PATH}"
fi
command -v uv >/dev/null || python3 -m pip install --quiet uv
uv sync --locked
uv venv --quiet policies/venv
uv pip install --quiet --python policies/venv/bin/python -r policies/requirements.txt

pulumi login "$PULUMI_BACKEND_URL"
pulumi "${pulumi_args[@]}" --stack "$stack" --policy-pack policies --non-interactive
