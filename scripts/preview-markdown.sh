#!/usr/bin/env bash
# Run `pulumi preview --diff` with the policy pack for one stack (scripts/pulumi-stack.sh preview, which adds
# `--policy-pack-config Pulumi.<stack>.policy.json` when the stack has that file) and write its output as a
# pull-request comment body to FILE, for scripts/pr-comment.sh: the marker "<!-- pulumi-preview stack=STACK -->"
# on the first line, a heading with the stack and the verdict, and the output (stdout and stderr, as the log shows
# them, without terminal colours) in a fenced block. It never fails on the preview's verdict: the exit code goes
# to the step output `exit-code` (GITHUB_OUTPUT) and the Markdown to the run summary, so the next steps can
# comment first and fail after.
#
# The output holds no decrypted secret: without --show-secrets (which no pipeline passes), `pulumi preview`
# prints every secret value as [secret] (pulumi/pulumi pkg/backend/display/object_diff.go at
# 010aabbf2ac916554e61c1d3a97b8961577a392e, printPropertyValueRecurse), stack outputs such as endpointKeys and
# foundryKeys included. Unlike pulumi/actions with a `command`, nothing here reads the stack outputs.
# Needs what scripts/pulumi-stack.sh needs: the Pulumi CLI on PATH, its backend (PULUMI_BACKEND_URL) and Azure
# credentials.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

(($# == 2)) || { echo "usage: scripts/preview-markdown.sh STACK FILE" >&2; exit 2; }
stack="$1"
file="$2"
[[ "$stack" =~ ^[A-Za-z0-9_.-]+$ ]] || { echo "preview-markdown: '${stack}' is not a stack name" >&2; exit 2; }

output="$(mktemp)"
text="$(mktemp)"
kept="$(mktemp)"
trap 'rm -f "$output" "$text" "$kept"' EXIT

# The log shows the preview as it runs; the file gets the same lines.
code=0
"${here}/pulumi-stack.sh" preview "$stack" 2>&1 | tee "$output" || code="${PIPESTATUS[0]}"

# Without terminal colours, every line ending in a newline.
awk '{ gsub(/\033\[[0-9;]*[A-Za-z]/, ""); print }' "$output" >"$text"

# GitHub rejects comments over 65536 characters, and scripts/pr-comment.sh cuts the file at 60000 bytes: keep the
# end of a longer preview (the diagnostics, the policy violations and the summary come last), from a line start.
limit=55000
note=""
if (($(wc -c <"$text") > limit)); then
  tail -c "$limit" "$text" | tail -n +2 >"$kept"
  left=$(($(wc -l <"$text") - $(wc -l <"$kept")))
  note="_The first ${left} lines of the preview are left out here; the job log has all of it._"
else
  cp "$text" "$kept"
fi

# A fence longer than any run of backticks in the output, so that no text from the preview can end it.
fence="$(awk '{ while (match($0, /`+/)) { if (RLENGTH > n) n = RLENGTH; $0 = substr($0, RSTART + RLENGTH) } }
  END { n = (n >= 3 ? n + 1 : 3); while (n-- > 0) printf "`" }' "$kept")"
if ((code == 0)); then verdict="passed"; else verdict="failed (exit code ${code})"; fi
{
  echo "<!-- pulumi-preview stack=${stack} -->"
  echo "## pulumi preview: stack \`${stack}\` ${verdict}"
  echo
  if [[ -n "$note" ]]; then
    echo "$note"
    echo
  fi
  echo "${fence}text"
  cat "$kept"
  echo "$fence"
} >"$file"

if [[ -n "${GITHUB_STEP_SUMMARY-}" ]]; then cat "$file" >>"$GITHUB_STEP_SUMMARY"; fi
if [[ -n "${GITHUB_OUTPUT-}" ]]; then echo "exit-code=${code}" >>"$GITHUB_OUTPUT"; fi
echo "preview-markdown: pulumi preview --stack ${stack} exited ${code}" >&2
