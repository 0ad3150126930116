#!/usr/bin/env bash
# One-time bootstrap of a GitOps setup for azure-maas without Pulumi Cloud: state in Azure Blob Storage,
# secrets encrypted with an Azure Key Vault key, and two pipeline identities that sign in with OpenID
# Connect (no stored client secret). Safe to run again: it creates what is missing, and brings the deploy
# identity's role-assignment condition up to date with the stack files (run it again after a stack's
# azure-maas:access changes). docs/gitops.md and docs/security.md walk through it and say what each identity
# can and cannot do. Needs: az (signed in), uv (run from the repository root), and gh (only with --github).
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
  --stacks LIST                  comma-separated stacks, one GitHub environment each (default: dev); each
                                 needs its Pulumi.<stack>.yaml, whose azure-maas:access decides which roles
                                 the deploy identity may grant; a stack that uses role: deployer needs the
                                 azure-maas:deployerRoles this script prints (it creates those roles)
  --project-dir DIR              directory of Pulumi.yaml and the stack files (default: .)
  --state-resource-group NAME    resource group of the state resources (default: rg-maas-state)
  --storage-account NAME         state storage account (default: stmaas + 10 hex characters derived
                                 from the subscription and the repository)
  --container NAME               state container (default: pulumi-state)
  --key-vault NAME               key vault of the secrets key (default: kv-maas- + the same 10 characters)
  --key NAME                     secrets key (default: pulumi-secrets)
  --branch NAME                  branch that deploys and runs drift checks (default: main)
  --azure-devops-issuer URL      also trust Azure DevOps workload identity federation service connections
  --azure-devops-subject SUBJECT (issuer and subject are shown when a connection is created): the deploy
                                 connection on the deploy identity, and
  --azure-devops-preview-subject SUBJECT
                                 the pull-request (preview) connection on the read-only preview identity
  --github                       also create the GitHub environments, each admitting only --branch, and set
                                 the repository variables, with gh
  --reviewers LIST               with --github: comma-separated GitHub logins or ORG/TEAM slugs (at most 6)
                                 who must approve each deploy (not the person who triggered it)
  -h, --help                     show this help
USAGE
}

log() { printf 'bootstrap: %s\n' "$*" >&2; }
die() { printf 'bootstrap: %s\n' "$*" >&2; exit 1; }

repo="" subscription="" location="" deploy_rg="" stacks="dev" state_rg="rg-maas-state"
storage_account="" container="pulumi-state" key_vault="" key="pulumi-secrets" branch="main"
ado_issuer="" ado_subject="" ado_preview_subject="" github=false reviewers="" project_dir="."

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
    --azure-devops-preview-subject) ado_preview_subject="${2-}"; shift 2 ;;
    --github) github=true; shift ;;
    --reviewers) reviewers="${2-}"; shift 2 ;;
    --project-dir) project_dir="${2-}"; shift 2 ;;
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
if [[ -n "$ado_issuer" && -z "$ado_subject" && -z "$ado_preview_subject" ]]; then
  die "--azure-devops-issuer needs --azure-devops-subject and/or --azure-devops-preview-subject"
fi
if [[ -z "$ado_issuer" ]] && [[ -n "$ado_subject" || -n "$ado_preview_subject" ]]; then
  die "--azure-devops-subject and --azure-devops-preview-subject need --azure-devops-issuer"
fi
reviewer_list=()
if [[ -n "$reviewers" ]]; then
  [[ "$github" == true ]] || die "--reviewers needs --github"
  IFS=',' read -r -a reviewer_list <<<"$reviewers"
  for reviewer in "${reviewer_list[@]}"; do
    [[ "$reviewer" =~ ^[A-Za-z0-9-]+(/[A-Za-z0-9._-]+)?$ ]] ||
      die "--reviewers: '$reviewer' is not a GitHub login or ORG/TEAM"
  done
  ((${#reviewer_list[@]} <= 6)) || die "--reviewers: GitHub allows at most 6 reviewers per environment, got ${#reviewer_list[@]}"
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

# Role definitions and the RBAC condition come from the repository's one source of role facts, and the
# roles the stacks assign from the program's own plan of each stack file.
facts() { uv run --quiet --locked python -m infra.cli.bootstrap "$@"; }
stack_facts() { # command [options]
  local command="$1"
  shift
  facts "$command" --subscription "$subscription" --resource-group "$deploy_rg" --repo "$repo" \
    --project-dir "$project_dir" --stacks "$stacks" "$@"
}

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

revoke() { # principal role scope why
  if assignment_exists "$1" "$2" "$3"; then
    log "removing role '$2' at $3 ($4)"
    az role assignment delete --assignee "$1" --role "$2" --scope "$3" --output none
  fi
}

custom_role() { # name definition-json assignable-scope
  local file
  file="$(mktemp)"
  printf '%s\n' "$2" >"$file"
  if [[ -n "$(az role definition list --custom-role-only true --name "$1" --scope "$3" --query '[0].id' --output tsv)" ]]; then
    log "updating custom role '$1'"
    az role definition update --role-definition "@${file}" --output none
  else
    log "creating custom role '$1'"
    az role definition create --role-definition "@${file}" --output none
  fi
  rm -f "$file"
}

# One of the deploy identity's two Role Based Access Control Administrator assignments (at the subscription, at
# the stacks' resource group), with the condition that allows exactly what the stacks grant there (conditions
# cannot test the scope, so the scope is where the role is assigned); a re-run rewrites the condition when the
# stack files changed, and removes the assignment when no stack grants anything there.
delegate() { # principal scope condition
  local role="Role Based Access Control Administrator" current updated file
  current="$(az role assignment list --assignee "$1" --role "$role" --scope "$2" --query '[0]' --output json)"
  [[ "$current" != null ]] || current=""
  if [[ -z "$3" ]]; then
    if [[ -n "$current" ]]; then
      log "no stack grants a role at $2: removing the deploy identity's ${role} assignment there"
      az role assignment delete --assignee "$1" --role "$role" --scope "$2" --output none
    else
      log "no stack grants a role at $2: the deploy identity gets no role-assignment rights there"
    fi
    return
  fi
  if [[ -z "$current" ]]; then
    assign "$1" "$role" "$2" "$3"
    return
  fi
  updated="$(facts condition-update --condition "$3" <<<"$current")"
  if [[ -z "$updated" ]]; then
    log "the RBAC Administrator condition of the deploy identity at $2 is up to date"
    return
  fi
  log "updating the RBAC Administrator condition of the deploy identity at $2"
  file="$(mktemp)"
  printf '%s\n' "$updated" >"$file"
  az role assignment update --role-assignment "@${file}" --output none
  rm -f "$file"
}

# The three `deployer` roles (infra/roles.py), created or updated in place under fixed GUIDs (PUT), so that no
# pipeline identity ever needs role-definition write: the stacks name them in azure-maas:deployerRoles.
deployer_roles() {
  local roles guid body file
  roles="$(facts deployer-roles --subscription "$subscription" --resource-group "$deploy_rg" --repo "$repo")"
  while read -r guid body; do
    file="$(mktemp)"
    printf '%s\n' "$body" >"$file"
    log "deployer role ${guid}"
    retry "deployer role ${guid}" az rest --method put \
      --url "https://management.azure.com${subscription_scope}/providers/Microsoft.Authorization/roleDefinitions/${guid}?api-version=2022-04-01" \
      --body "@${file}" --output none
    rm -f "$file"
  done <<<"$roles"
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

# Read every stack's access before touching Azure: a stack file that is missing or invalid, that deploys to
# another resource group, that grants a privileged role or a role outside that group, or that uses `deployer`
# without this repository's azure-maas:deployerRoles stops the bootstrap here.
summary="$(stack_facts check-stacks)"
while IFS= read -r line; do log "$line"; done <<<"$summary"

# GitHub reviewers by ID, also before Azure: a login GitHub does not know stops here.
reviewer_entries=()
for reviewer in "${reviewer_list[@]}"; do
  if [[ "$reviewer" == */* ]]; then
    id="$(gh api "orgs/${reviewer%%/*}/teams/${reviewer#*/}" --jq .id)" || die "--reviewers: GitHub knows no team '${reviewer}'"
    reviewer_entries+=("{\"type\":\"Team\",\"id\":${id}}")
  else
    id="$(gh api "users/${reviewer}" --jq .id)" || die "--reviewers: GitHub knows no user '${reviewer}'"
    reviewer_entries+=("{\"type\":\"User\",\"id\":${id}}")
  fi
  [[ "$id" =~ ^[0-9]+$ ]] || die "--reviewers: GitHub returned no ID for '${reviewer}'"
done

log "subscription ${subscription}"
az account set --subscription "$subscription"
tenant="$(az account show --query tenantId --output tsv)"
me="$(az ad signed-in-user show --query id --output tsv)"

log "resource groups ${state_rg} (state) and ${deploy_rg} (stacks)"
az group create --name "$state_rg" --location "$location" --tags managed-by=azure-maas-bootstrap --output none
az group create --name "$deploy_rg" --location "$location" --tags managed-by=azure-maas-bootstrap --output none
state_rg_id="$(az group show --name "$state_rg" --query id --output tsv)"
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

# Deploys run only in a GitHub environment (one per stack, admitting only the deploy branch, where reviewers
# can be required); pull-request previews and the scheduled drift check on the branch get the read-only
# identity. On Azure Pipelines, one service connection per identity: pull requests use the preview one.
for stack in "${stack_list[@]}"; do
  federate "$deploy_identity" "github-environment-${stack}" "$github_issuer" "repo:${repo}:environment:${stack}"
done
federate "$preview_identity" "github-pull-request" "$github_issuer" "repo:${repo}:pull_request"
federate "$preview_identity" "github-branch-${branch}" "$github_issuer" "repo:${repo}:ref:refs/heads/${branch}"
if [[ -n "$ado_subject" ]]; then
  federate "$deploy_identity" "azure-devops" "$ado_issuer" "$ado_subject"
fi
if [[ -n "$ado_preview_subject" ]]; then
  federate "$preview_identity" "azure-devops-preview" "$ado_issuer" "$ado_preview_subject"
fi

# Deploy identity: read, write and lock the state; decrypt and encrypt the stack secrets; the stacks'
# resources; the Marketplace actions of the `deployer` role at the subscription (no role-definition write);
# and role assignments of exactly the roles the stacks grant (the conditions, from the stack files): the
# Marketplace Subscriber role at the subscription, everything else in the stacks' resource group; to itself
# only the data-plane `developer` role a stack grants it (its smoke test after each deploy), to the preview
# identity nothing.
deployer_roles
assign "$deploy_principal" "Storage Blob Data Contributor" "$container_scope"
assign "$deploy_principal" "Key Vault Crypto User" "$key_scope"
deploy_role="azure-maas deploy (${repo})"
custom_role "$deploy_role" "$(facts deploy-role --subscription "$subscription" --name "$deploy_role")" "$subscription_scope"
assign "$deploy_principal" "Contributor" "$deploy_rg_id"
assign "$deploy_principal" "$deploy_role" "$subscription_scope"
for at in subscription resourceGroup; do
  scope="$subscription_scope"
  [[ "$at" == subscription ]] || scope="$deploy_rg_id"
  delegate "$deploy_principal" "$scope" "$(stack_facts rbac-condition --at "$at" \
    --deploy-principal "$deploy_principal" --exclude-principal "$preview_principal")"
done

# Preview identity: read everything a refresh reads, the endpoint keys a preview reads, the state (a preview
# writes none: no lock, checkpoint or history), and decrypt the stack's data key (no encrypt, wrap or sign).
assign "$preview_principal" "Storage Blob Data Reader" "$container_scope"
revoke "$preview_principal" "Storage Blob Data Contributor" "$container_scope" "bootstraps before issue 13 granted it"
decrypt_role="azure-maas secrets decrypt (${repo})"
custom_role "$decrypt_role" "$(facts decrypt-role --scope "$state_rg_id" --name "$decrypt_role")" "$state_rg_id"
assign "$preview_principal" "$decrypt_role" "$key_scope"
revoke "$preview_principal" "Key Vault Crypto User" "$key_scope" "bootstraps before issue 13 granted it"
preview_role="azure-maas preview (${repo})"
custom_role "$preview_role" "$(facts preview-role --scope "$deploy_rg_id" --name "$preview_role")" "$deploy_rg_id"
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

# A GitHub environment admits only the deploy branch (the deploy identity trusts any job in the environment),
# and with --reviewers one of them approves each deploy. PUT replaces an environment's protection rules, so
# without --reviewers the reviewers and wait timer it has are sent back unchanged.
branch_policy='{"deployment_branch_policy":{"protected_branches":false,"custom_branch_policies":true}}'
keep_protection='{deployment_branch_policy: {protected_branches: false, custom_branch_policies: true}}
  + ([.protection_rules[]? | select(.type == "wait_timer") | {wait_timer}] | add // {})
  + ([.protection_rules[]? | select(.type == "required_reviewers")
      | {reviewers: [.reviewers[] | {type, id: .reviewer.id}], prevent_self_review}] | add // {})'
protect_environment() { # stack
  local environment="repos/${repo}/environments/$1" body policies other
  body="$(mktemp)"
  if ((${#reviewer_entries[@]} > 0)); then
    printf '%s,"reviewers":[%s],"prevent_self_review":true}\n' "${branch_policy%\}}" \
      "$(IFS=,; printf '%s' "${reviewer_entries[*]}")" >"$body"
  elif ! gh api "$environment" --jq "$keep_protection" >"$body" 2>/dev/null || [[ ! -s "$body" ]]; then
    printf '%s\n' "$branch_policy" >"$body"
  fi
  gh api --method PUT "$environment" --input "$body" --silent
  rm -f "$body"
  policies="$(gh api "${environment}/deployment-branch-policies" --jq '.branch_policies[] | select(.type != "tag") | .name')"
  if ! grep -qxF "$branch" <<<"$policies"; then
    gh api --method POST "${environment}/deployment-branch-policies" -f name="$branch" -f type=branch --silent
  fi
  other="$(grep -vxF "$branch" <<<"$policies" | paste -sd ' ' || true)"
  if [[ -n "$other" ]]; then
    log "environment $1 also admits ${other}: the deploy identity trusts every branch its environments admit"
  fi
}

if [[ "$github" == true ]]; then
  log "GitHub environments and variables of ${repo}"
  for stack in "${stack_list[@]}"; do
    protect_environment "$stack"
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
  "Pipeline identities: deploy ${deploy_principal} (a stack may grant it role: developer, which its smoke test needs, and nothing else), preview ${preview_principal} (never list it under azure-maas:access)." \
  "The deployer roles, for the config of every stack file that uses role: deployer:"
facts deployer-roles-config --subscription "$subscription" --repo "$repo"
