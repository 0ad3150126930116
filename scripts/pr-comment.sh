#!/usr/bin/env bash
# Post a Markdown file as a pull-request comment, or update the comment posted before: the comment whose
# first line equals the file's first line (maas plan writes "<!-- maas-plan stack=NAME -->" there,
# scripts/preview-markdown.sh "<!-- pulumi-preview stack=NAME -->") and whose author is the token's own bot.
# Needs gh, GH_TOKEN, and REPO (OWNER/NAME) and PR (number).
set -euo pipefail

die() { printf 'pr-comment: %s\n' "$*" >&2; exit 1; }

(($# == 1)) || die "usage: scripts/pr-comment.sh FILE"
file="$1"
[[ -s "$file" ]] || die "${file} is missing or empty"
[[ "${REPO-}" =~ ^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+$ ]] || die "REPO must be OWNER/NAME"
[[ "${PR-}" =~ ^[0-9]+$ ]] || die "PR must be a pull request number"
author="${COMMENT_AUTHOR:-github-actions[bot]}"
[[ "$author" =~ ^[A-Za-z0-9_.-]+(\[bot\])?$ ]] || die "COMMENT_AUTHOR must be a GitHub login"

marker="$(head -n 1 "$file")"
marker_pattern='^<!-- [A-Za-z0-9_.= -]+ -->$'
[[ "$marker" =~ $marker_pattern ]] || die "the first line of ${file} is not a comment marker such as <!-- maas-plan stack=dev -->"

# GitHub rejects comments over 65536 characters: keep the head and say where the rest is.
limit=60000
body="$(mktemp)"
trap 'rm -f "$body"' EXIT
if (($(wc -c <"$file") > limit)); then
  head -c "$limit" "$file" >"$body"
  printf '\n\n_Truncated: the full plan is in the workflow run summary._\n' >>"$body"
else
  cp "$file" "$body"
fi

existing="$(
  gh api --paginate "repos/${REPO}/issues/${PR}/comments" \
    --jq ".[] | select(.user.login == \"${author}\") | select(.body | split(\"\n\")[0] == \"${marker}\") | .id" |
    head -n 1
)"
if [[ -n "$existing" ]]; then
  gh api --method PATCH "repos/${REPO}/issues/comments/${existing}" -F "body=@${body}" --silent
  printf 'pr-comment: updated comment %s on #%s\n' "$existing" "$PR"
else
  gh api --method POST "repos/${REPO}/issues/${PR}/comments" -F "body=@${body}" --silent
  printf 'pr-comment: posted a comment on #%s\n' "$PR"
fi
