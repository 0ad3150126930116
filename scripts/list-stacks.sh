#!/usr/bin/env bash
# Print the stacks of this repository (one per Pulumi.<stack>.yaml) as a GitHub Actions step output:
# stacks=["dev","prod"]. Stack names are checked, since workflows pass them on to commands.
set -euo pipefail
cd "$(dirname "$0")/.."

names=()
for file in Pulumi.*.yaml; do
  [[ -e "$file" ]] || break
  stack="${file#Pulumi.}"
  stack="${stack%.yaml}"
  [[ "$stack" =~ ^[A-Za-z0-9_.-]+$ ]] || { printf 'list-stacks: %s: not a stack name (letters, digits, _ . -)\n' "$file" >&2; exit 1; }
  names+=("\"${stack}\"")
done
((${#names[@]} > 0)) || { printf 'list-stacks: no Pulumi.<stack>.yaml in %s\n' "$PWD" >&2; exit 1; }
(IFS=','; printf 'stacks=[%s]\n' "${names[*]}")
