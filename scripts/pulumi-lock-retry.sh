#!/usr/bin/env bash
# Run `pulumi ARGUMENTS...`; when it fails because the stack is locked by another update, wait and run it again,
# a bounded number of times. Any other failure ends it at once, with pulumi's exit code. The drift check runs its
# preview through this (scripts/pulumi-stack.sh drift), so that meeting a lock makes it wait, not fail.
#
# The lock errors, as Pulumi prints them on stderr, which is where its Automation API looks for them too
# (pulumi/pulumi sdk/nodejs/automation/errors.ts at 639ababd75107eee2d66f8189d4e3182530a1a22: either text makes a
# ConcurrentUpdateError):
# - the Blob (DIY) backend: "the stack is currently locked by N lock(s). Either wait for the other process(es) to
#   end or delete the lock file with `pulumi cancel`." (pulumi/pulumi pkg/backend/diy/lock.go at
#   1e5fa8de0283b9abc50877f1122a0ff3c035f516, checkForLock, which Lock runs before it writes its own lock);
# - Pulumi Cloud: "[409] Conflict: Another update is currently in progress."
# Both come before the operation starts (pkg/backend/diy/backend.go at 002d849298513ad2419f5c500f737534d7b83920:
# Update, Refresh, Destroy and Import take the lock first), so a locked attempt changed nothing.
#
# LOCK_RETRY_WAIT: seconds between attempts (default 30); LOCK_RETRY_ATTEMPTS: attempts in all (default 20), so at
# most 19 waits, 9.5 minutes with the defaults.
set -euo pipefail

die() { printf 'pulumi-lock-retry: %s\n' "$*" >&2; exit 2; }

(($# > 0)) || die "usage: scripts/pulumi-lock-retry.sh PULUMI-ARGUMENTS..."
wait_seconds="${LOCK_RETRY_WAIT:-30}"
attempts="${LOCK_RETRY_ATTEMPTS:-20}"
[[ "$wait_seconds" =~ ^[0-9]+$ ]] || die "LOCK_RETRY_WAIT must be a whole number of seconds, got '${wait_seconds}'"
[[ "$attempts" =~ ^[1-9][0-9]*$ ]] || die "LOCK_RETRY_ATTEMPTS must be a positive whole number, got '${attempts}'"

errors="$(mktemp)"
trap 'rm -f "$errors"' EXIT

locked() {
  grep -qF -e 'the stack is currently locked by' -e '[409] Conflict: Another update is currently in progress.' "$errors"
}

attempt=1
while :; do
  status=0
  # stderr reaches the log as it comes and is kept in $errors to look for the lock error; stdout is untouched.
  { pulumi "$@" 2>&1 1>&3 3>&- | tee "$errors" 1>&2 3>&-; } 3>&1 || status=$?
  ((status != 0)) || exit 0
  locked || exit "$status"
  if ((attempt >= attempts)); then
    printf 'pulumi-lock-retry: the stack is still locked after %d attempts %d s apart; if no update is running, pulumi cancel removes a stale lock\n' \
      "$attempts" "$wait_seconds" >&2
    exit "$status"
  fi
  printf 'pulumi-lock-retry: the stack is locked by another update (attempt %d of %d); trying again in %d s\n' \
    "$attempt" "$attempts" "$wait_seconds" >&2
  sleep "$wait_seconds"
  attempt=$((attempt + 1))
done
