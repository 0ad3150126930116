#!/usr/bin/env bash
# Run `maas plan --format markdown` for one stack into FILE (with `--policy-pack-config Pulumi.<stack>.policy.json`
# when the stack has that file: scripts/policy-config.sh) and never fail on the plan's verdict:
# the exit code goes to the step output `exit-code` (GitHub Actions: GITHUB_OUTPUT; Azure Pipelines:
# the variable planExitCode) and the Markdown to the run summary, so the next steps can comment first
# and fail after. A plan that could
# not run (invalid config, internal failure) still leaves a Markdown file with the marker and the cause.
set -euo pipefail

(($# == 2)) || { echo "usage: scripts/plan-markdown.sh STACK FILE" >&2; exit 2; }
stack="$1"
file="$2"
[[ "$stack" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "plan-markdown: '${stack}' is not a stack name" >&2; exit 2; }

# The stack's policy config, when it has one, as the Pulumi commands of the pipelines get it.
plan=(run --locked maas plan --stack "$stack" --format markdown)
config="$("$(dirname "${BASH_SOURCE[0]}")/policy-config.sh" "$stack")"
if [[ -n "$config" ]]; then plan+=(--policy-pack-config "$config"); fi

errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT
code=0
uv "${plan[@]}" >"$file" 2>"$errors" || code=$?
cat "$errors" >&2

if ((code >= 2)); then
  # A fence longer than any run of backticks in the message, so that no text from a config can end it.
  fence="$(awk '{ while (match($0, /`+/)) { if (RLENGTH > n) n = RLENGTH; $0 = substr($0, RSTART + RLENGTH) } }
    END { n = (n >= 3 ? n + 1 : 3); while (n-- > 0) printf "`" }' "$errors")"
  {
    echo "<!-- maas-plan stack=${stack} -->"
    echo "## maas plan: stack \`${stack}\` could not be planned"
    echo
    echo "Exit code ${code} ($( ((code == 2)) && echo "invalid configuration" || echo "internal failure" )):"
    echo
    echo "${fence}text"
    cat "$errors"
    echo "$fence"
  } >"$file"
fi

if [[ -n "${GITHUB_STEP_SUMMARY-}" ]]; then cat "$file" >>"$GITHUB_STEP_SUMMARY"; fi
if [[ -n "${GITHUB_OUTPUT-}" ]]; then echo "exit-code=${code}" >>"$GITHUB_OUTPUT"; fi
if [[ -n "${TF_BUILD-}" ]]; then
  echo "##vso[task.setvariable variable=planExitCode]${code}"
  echo "##vso[task.uploadsummary]$(realpath "$file")"
fi
echo "plan-markdown: maas plan --stack ${stack} exited ${code}" >&2
