#!/usr/bin/env bash
# One-time bootstrap of a GitOps setup for azure-maas without Pulumi Cloud: state in Azure Blob Storage,
# secrets encrypted with an Azure Key Vault key, and two pipeline identities that sign in with OpenID
# Connect (no stored client secret). Safe to run again: it creates what is missing and changes nothing else.
# README.md, "GitOps", walks through it. Needs: az (signed in), uv (run from the repository root),
# and gh (only with --github).
set -euo pipefail

usage() {
  cat <<'USAGE'
Usage: scripts/bootstrap.sh --repo OWNER/NAME --subscription ID --location REGION
                            --deploy-resource-group NAME [options]

Required:
  --repo OWNER/NAME              GitHub repository whose workflows may sign in
  --subscription ID              subscription that holds the state and the stacks' resources
  --location REGION              region of the state resources (e.g. eastus2)
  --deploy-resource-group NAME   the stacks' resource group (azure-maas:resourceGroup.name); created
                                 here, so set azure-maas:resourceGroup.create to false

Options:
  --stacks LIST                  comma-separated stacks, one GitHub environment each (default: dev)
  --state-resource-group NAME    resource group of the state resources (default: rg-maas-state)
  --storage-account NAME         state storage account (default: stmaas + 10 hex characters derived
                                 from the subscription and the repository)
  --container NAME               state container (default: pulumi-state)
  --key-vault NAME               key vault of the secrets key (default: kv-maas- + the same 10 characters)
  --key NAME                     secrets key (default: pulumi-secrets)
  --branch NAME                  branch that deploys and runs drift checks (default: main)
  --azure-devops-issuer URL      also trust an Azure DevOps workload identity federation service
  --azure-devops-subject SUBJECT connection (both values are shown when the connection is created)
  --github                       also create the GitHub environments and set the repository variables
                                 with gh
  -h, --help                     show this help
USAGE
}

log() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { printf 'bootstrap: %s\n' "$*" >&2; exit 1; }

repo="" subscription="" location="" deploy_rg="" stacks="dev" state_rg="rg-maas-state"
storage_account="" container="pulumi-state" key_vault="" key="pulumi-secrets" branch="main"
ado_issuer="" ado_subject="" github=false

while (($# > 0)); do
  case "$1" in
    --repo) repo="${2-}"; shift 2 ;;
    --subscription) subscription="${2-}"; shift 2 ;;
    --location) location="${2-}"; shift 2 ;;
    --deploy-resource-group) deploy_rg="${2-}"; shift 2 ;;
    --stacks) stacks="${2-}"; shift 2 ;;
    --state-resource-group) state_rg="${2-}"; shift 2 ;;
    --storage-account) storage_account="${2-}"; shift 2 ;;
    --container) container="${2-}"; shift 2 ;;
    --key-vault) key_vault="${2-}"; shift 2 ;;
    --key) key="${2-}"; shift 2 ;;
    --branch) branch="${2-}"; shift 2 ;;
    --azure-devops-issuer) ado_issuer="${2-}"; shift 2 ;;
    --azure-devops-subject) ado_subject="${2-}"; shift 2 ;;
    --github) github=true; shift ;;
    -h | --help) usage; exit 0 ;;
    *) die "unknown option '$1' (see --help)" ;;
  esac
done

[[ -n "$repo" ]] || die "--repo is required (OWNER/NAME)"
[[ "$repo" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || die "--repo must be OWNER/NAME, got '$repo'"
[[ -n "$subscription" ]] || die "--subscription is required"
[[ -n "$location" ]] || die "--location is required"
[[ -n "$deploy_rg" ]] || die "--deploy-resource-group is required"
IFS=',' read -r -a stack_list <<<"$stacks"
((${#stack_list[@]} > 0)) || die "--stacks must name at least one stack"
for stack in "${stack_list[@]}"; do
  [[ "$stack" =~ ^[A-Za-z0-9_.-]+$ ]] || die "--stacks: '$stack' is not a stack name (letters, digits, _ . -)"
done
if [[ -n "$ado_issuer" || -n "$ado_subject" ]] && [[ -z "$ado_issuer" || -z "$ado_subject" ]]; then
  die "--azure-devops-issuer and --azure-devops-subject go together"
fi
command -v az >/dev/null || die "the Azure CLI (az) is not installed"
command -v uv >/dev/null || die "uv is not installed (pip install uv)"
if [[ "$github" == true ]]; then command -v gh >/dev/null || die "--github needs the GitHub CLI (gh)"; fi

suffix="$(printf '%s/%s' "$subscription" "$repo" | sha256sum | cut -c1-10)"
storage_account="${storage_account:-stmaas${suffix}}"
key_vault="${key_vault:-kv-maas-${suffix}}"
github_issuer="https://token.actions.githubusercontent.com"
audience="api://AzureADTokenExchange"
deploy_identity="id-maas-deploy"
preview_identity="id-maas-preview"
subscription_scope="/subscriptions/${subscription}"

# New identities, role definitions and role assignments take a few minutes to reach every Azure service:
# try again, up to 12 times, RETRY_DELAY seconds apart [15].
retry() { # what command...
  local what="$1" attempt
  shift
  for attempt in 1 2 3 4 5 6 7 8 9 10 11 12; do
    if "$@"; then return 0; fi
    ((attempt < 12)) || die "gave up on ${what} after 12 attempts"
    log "${what}: not yet, retrying (attempt ${attempt}/12)"
    sleep "${RETRY_DELAY:-15}"
  done
}

# Role definitions and the RBAC condition come from the repository's one source of role facts.
facts() { uv run --quiet --locked python -m infra.bootstrap "$@"; }

# The object ID of an existing role assignment, or nothing.
assignment_exists() { # principal role scope
  [[ -n "$(az role assignment list --assignee "$1" --role "$2" --scope "$3" --query '[0].id' --output tsv)" ]]
}

assign() { # principal role scope [condition]
  if assignment_exists "$1" "$2" "$3"; then
    log "role '$2' already assigned at $3"
    return
  fi
  local extra=()
  if (($# > 3)); then extra=(--condition "$4" --condition-version 2.0); fi
  log "assigning role '$2' at $3"
  retry "role '$2' at $3" az role assignment create --assignee-object-id "$1" \
    --assignee-principal-type ServicePrincipal --role "$2" --scope "$3" "${extra[@]}" --output none
}

custom_role() { # name definition-json
  local file
  file="$(mktemp)"
  printf '%s\n' "$2" >"$file"
  if [[ -n "$(az role definition list --custom-role-only true --name "$1" --scope "$subscription_scope" --query '[0].id' --output tsv)" ]]; then
    log "updating custom role '$1'"
    az role definition update --role-definition "@${file}" --output none
  else
    log "creating custom role '$1'"
    az role definition create --role-definition "@${file}" --output none
  fi
  rm -f "$file"
}

federate() { # identity name issuer subject
  if [[ -n "$(az identity federated-credential list --identity-name "$1" --resource-group "$state_rg" --query "[?name=='$2'].name" --output tsv)" ]]; then
    log "federated credential '$2' of $1 exists"
    return
  fi
  log "trusting $4 for $1"
  az identity federated-credential create --identity-name "$1" --resource-group "$state_rg" --name "$2" \
    --issuer "$3" --subject "$4" --audiences "$audience" --output none
}

log "subscription ${subscription}"
az account set --subscription "$subscription"
tenant="$(az account show --query tenantId --output tsv)"
me="$(az ad signed-in-user show --query id --output tsv)"

log "resource groups ${state_rg} (state) and ${deploy_rg} (stacks)"
az group create --name "$state_rg" --location "$location" --tags managed-by=azure-maas-bootstrap --output none
az group create --name "$deploy_rg" --location "$location" --tags managed-by=azure-maas-bootstrap --output none
deploy_rg_id="$(az group show --name "$deploy_rg" --query id --output tsv)"

log "storage account ${storage_account}, container ${container}"
az storage account create --name "$storage_account" --resource-group "$state_rg" --location "$location" \
  --kind StorageV2 --sku Standard_LRS --https-only true --min-tls-version TLS1_2 \
  --allow-blob-public-access false --allow-shared-key-access false --output none
az storage account blob-service-properties update --account-name "$storage_account" --resource-group "$state_rg" \
  --enable-versioning true --enable-delete-retention true --delete-retention-days 30 \
  --enable-container-delete-retention true --container-delete-retention-days 30 --output none
az storage container-rm create --storage-account "$storage_account" --resource-group "$state_rg" \
  --name "$container" --public-access off --output none
storage_id="$(az storage account show --name "$storage_account" --resource-group "$state_rg" --query id --output tsv)"
container_scope="${storage_id}/blobServices/default/containers/${container}"

log "key vault ${key_vault}, key ${key}"
if ! az keyvault show --name "$key_vault" --resource-group "$state_rg" --output none 2>/dev/null; then
  az keyvault create --name "$key_vault" --resource-group "$state_rg" --location "$location" \
    --enable-rbac-authorization true --enable-purge-protection true --retention-days 90 --output none
fi
vault_id="$(az keyvault show --name "$key_vault" --resource-group "$state_rg" --query id --output tsv)"
if ! assignment_exists "$me" "Key Vault Crypto Officer" "$vault_id"; then
  az role assignment create --assignee-object-id "$me" --assignee-principal-type User \
    --role "Key Vault Crypto Officer" --scope "$vault_id" --output none
fi
if ! az keyvault key show --vault-name "$key_vault" --name "$key" --output none 2>/dev/null; then
  retry "key ${key} in ${key_vault} (needs your Key Vault Crypto Officer role)" \
    az keyvault key create --vault-name "$key_vault" --name "$key" --kty RSA --size 3072 \
    --ops encrypt decrypt wrapKey unwrapKey --output none
fi
key_scope="${vault_id}/keys/${key}"

log "identities ${deploy_identity} and ${preview_identity}"
az identity create --name "$deploy_identity" --resource-group "$state_rg" --location "$location" --output none
az identity create --name "$preview_identity" --resource-group "$state_rg" --location "$location" --output none
deploy_client="$(az identity show --name "$deploy_identity" --resource-group "$state_rg" --query clientId --output tsv)"
deploy_principal="$(az identity show --name "$deploy_identity" --resource-group "$state_rg" --query principalId --output tsv)"
preview_client="$(az identity show --name "$preview_identity" --resource-group "$state_rg" --query clientId --output tsv)"
preview_principal="$(az identity show --name "$preview_identity" --resource-group "$state_rg" --query principalId --output tsv)"

# Deploys run only in a GitHub environment (one per stack, where reviewers can be required);
# pull-request previews and the scheduled drift check on the branch get the read-mostly identity.
for stack in "${stack_list[@]}"; do
  federate "$deploy_identity" "github-environment-${stack}" "$github_issuer" "repo:${repo}:environment:${stack}"
done
federate "$preview_identity" "github-pull-request" "$github_issuer" "repo:${repo}:pull_request"
federate "$preview_identity" "github-branch-${branch}" "$github_issuer" "repo:${repo}:ref:refs/heads/${branch}"
if [[ -n "$ado_issuer" ]]; then
  federate "$deploy_identity" "azure-devops" "$ado_issuer" "$ado_subject"
fi

# Both identities: read and lock the state, encrypt and decrypt the stack secrets.
for principal in "$deploy_principal" "$preview_principal"; do
  assign "$principal" "Storage Blob Data Contributor" "$container_scope"
  assign "$principal" "Key Vault Crypto User" "$key_scope"
done

# Deploy identity: the stacks' resources, the Marketplace actions and custom role definitions of the
# `deployer` role at the subscription, and role assignments of any role but the privileged ones.
deploy_role="azure-maas deploy (${repo})"
custom_role "$deploy_role" "$(facts deploy-role --subscription "$subscription" --name "$deploy_role")"
assign "$deploy_principal" "Contributor" "$deploy_rg_id"
assign "$deploy_principal" "$deploy_role" "$subscription_scope"
assign "$deploy_principal" "Role Based Access Control Administrator" "$subscription_scope" "$(facts rbac-condition)"

# Preview identity: read everything a refresh reads, and the endpoint keys a preview reads.
preview_role="azure-maas preview (${repo})"
custom_role "$preview_role" "$(facts preview-role --scope "$deploy_rg_id" --name "$preview_role")"
assign "$preview_principal" "Reader" "$subscription_scope"
assign "$preview_principal" "$preview_role" "$deploy_rg_id"

backend_url="azblob://${container}?storage_account=${storage_account}"
secrets_provider="azurekeyvault://${key_vault}.vault.azure.net/keys/${key}"
# The repository variables the workflows read, NAME=value; printed below, and set with --github.
variables=(
  "AZURE_TENANT_ID=${tenant}"
  "AZURE_SUBSCRIPTION_ID=${subscription}"
  "AZURE_DEPLOY_CLIENT_ID=${deploy_client}"
  "AZURE_PREVIEW_CLIENT_ID=${preview_client}"
  "PULUMI_BACKEND_URL=${backend_url}"
)

if [[ "$github" == true ]]; then
  log "GitHub environments and variables of ${repo}"
  for stack in "${stack_list[@]}"; do
    gh api --method PUT "repos/${repo}/environments/${stack}" --silent
  done
  for variable in "${variables[@]}"; do
    gh variable set "${variable%%=*}" --repo "$repo" --body "${variable#*=}"
  done
fi

cat <<DONE
Bootstrap complete. Pipeline variables (GitHub: Settings > Secrets and variables > Actions > Variables;
Azure DevOps: PULUMI_BACKEND_URL in a variable group named azure-maas), and the secrets provider for
pulumi stack init --secrets-provider:
DONE
printf '%s\n' "${variables[@]}" "PULUMI_SECRETS_PROVIDER=${secrets_provider}" \
  "Grant the deploy identity in each stack's config: azure-maas:access principalId ${deploy_principal}."
