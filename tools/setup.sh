#!/usr/bin/env bash
# One-time (and idempotent) set-up of a machine for vm-cluster: Debian packages, npm packages,
# the pulumi CLI built from Go modules (cached by version), and our language host beside it.
# Every step is all-or-nothing; a failure names the step.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
tools="$root/.tools"
cache="${VM_CLUSTER_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/vm-cluster}"
pin=$(node -p 'require("./package.json").config.pulumiCliVersion')

current_step="" cli_build="" ticker="" cli_out="" cli_log=""
# The real stderr, for the failure line: the exit trap may run inside a redirected command.
exec 3>&2
# On any exit (a failure, Ctrl-C): stop what still runs in the background, then name the failed step.
on_exit() {
  local rc=$1
  if [ -n "$ticker" ]; then kill "$ticker" 2>/dev/null || true; fi
  if [ -n "$cli_build" ]; then kill -- "-$cli_build" 2>/dev/null || true; fi
  rm -f "$cli_out" "$cli_log"
  if [ "$rc" -ne 0 ] && [ -n "$current_step" ]; then echo "setup: step \"$current_step\" failed (exit $rc); see the output above" >&3; fi
} 2>/dev/null # bash 5.2 prints "wait_for: No record of process" here after a reaped background job
trap 'on_exit $?' EXIT
step() { current_step=$1; echo "setup: $1" >&2; }
# Runs a command in the foreground (Ctrl-C reaches it), saying every 10 s what set-up waits for and
# how long it has run.
with_progress() { # what command...
  local what=$1 rc=0
  shift
  (while true; do
    for _ in 1 2 3 4 5 6 7 8 9 10; do sleep 1; done
    echo "setup: $what: ${SECONDS}s since set-up started" >&2
  done) &
  ticker=$!
  "$@" || rc=$?
  kill "$ticker" 2>/dev/null || true
  ticker=""
  return $rc
}

# The pulumi CLI: one of at least the pinned version already on PATH (not ours), else ours, built
# from Go modules. A cold build takes minutes: it starts first and runs beside the other steps.
version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }
engine=""
if found=$(command -v pulumi 2>/dev/null) && [ "${found#"$tools"}" = "$found" ]; then
  have=$("$found" version 2>/dev/null | sed 's/^v//; s/[-+].*//')
  if [ -n "$have" ] && version_ge "$have" "$pin"; then engine=$found; fi
fi
mkdir -p "$tools/cli" "$tools/bin"
if [ -z "$engine" ]; then
  cli_out=$(mktemp "$tools/cli/build.XXXXXX.out") cli_log=$(mktemp "$tools/cli/build.XXXXXX.log")
  # A session of its own, so that stopping set-up stops the whole build (go and its children).
  setsid bash tools/build-cli.sh "$pin" "$cache" > "$cli_out" 2> "$cli_log" &
  cli_build=$!
fi

step "Debian packages"
mapfile -t wanted < <(grep -Ev '^\s*(#|$)' tools/debian-packages.txt)
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null || { echo "missing packages (${missing[*]}) and no apt-get: install their equivalents by hand" >&2; exit 1; }
  [ "$(id -u)" -eq 0 ] || { echo "missing packages: ${missing[*]}; run this as root or: sudo apt-get install ${missing[*]}" >&2; exit 1; }
  with_progress "updating the package lists" apt-get update -qq
  with_progress "installing ${#missing[@]} Debian packages" \
    env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

step "npm packages"
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.vm-cluster-lock 2>/dev/null)" != "$lock_hash" ]; then
  with_progress "npm ci" npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" > node_modules/.vm-cluster-lock
fi

step "pulumi CLI v$pin"
if [ -z "$engine" ]; then
  # bash may warn "No record of process" for a build that ended long ago, though it still has its
  # status (127 when it has not, which fails this step as it should).
  wait_build() { wait "$cli_build" 2>/dev/null; }
  if ! with_progress "building the pulumi CLI v$pin from Go modules (cold: about 5 min on 2 cores)" wait_build; then
    cli_build=""
    cat "$cli_log" >&2
    exit 1
  fi
  cli_build=""
  built=$(tail -1 "$cli_out")
  if ! cmp -s "$built" "$tools/cli/pulumi"; then
    ln -f "$built" "$tools/cli/pulumi.new" 2>/dev/null || cp "$built" "$tools/cli/pulumi.new"
    mv -f "$tools/cli/pulumi.new" "$tools/cli/pulumi"
  fi
  engine="$tools/cli/pulumi"
fi

step "language host and dynamic-provider launcher"
npx tsc -p engine/tsconfig.json
write_exec() { # atomically write an executable script
  local tmp; tmp=$(mktemp "$1.XXXXXX"); cat > "$tmp"; chmod 0755 "$tmp"; mv -f "$tmp" "$1"
}
write_exec "$tools/cli/pulumi-language-nodejs" <<SH
#!/bin/sh
exec node -r "$tools/engine/compile-cache-preload.js" "$tools/engine/language-host.js" "\$@"
SH
# The engine runs dynamic providers through this launcher; the program's own @pulumi/pulumi serves them
# (engine/provider-host.ts).
write_exec "$tools/cli/pulumi-resource-pulumi-nodejs" <<SH
#!/bin/sh
exec node -r "$tools/engine/compile-cache-preload.js" "$tools/engine/provider-host.js" "\$@"
SH
# Our language host is used only where no official one is beside the engine or on PATH.
extra_path=""
if [ "$engine" != "$tools/cli/pulumi" ] && [ ! -x "$(dirname "$engine")/pulumi-language-nodejs" ] \
   && ! command -v pulumi-language-nodejs >/dev/null; then
  extra_path="$tools/cli:"
fi

step "pulumi wrapper and local state"
mkdir -p "$root/.state"
if [ ! -s "$root/.state/passphrase" ]; then
  (umask 077; head -c 24 /dev/urandom | base64 > "$root/.state/passphrase.new" && mv "$root/.state/passphrase.new" "$root/.state/passphrase")
fi
write_exec "$tools/bin/pulumi" <<SH
#!/bin/sh
# vm-cluster's pulumi: local file state unless you logged in to a self-managed backend (\`pulumi login\`,
# e.g. team state in PostgreSQL), a generated passphrase unless you set your own, no update check, and no
# plugin download, ever.
# Only a self-managed backend counts: a Pulumi Cloud login made for other projects does not move this one.
creds="\${PULUMI_CREDENTIALS_PATH:-\${PULUMI_HOME:-\$HOME/.pulumi}}/credentials.json"
if [ -z "\${PULUMI_BACKEND_URL:-}" ] && ! grep -Eqs '"current": *"(postgres|file|s3|gs|azblob)://' "\$creds"; then
  PULUMI_BACKEND_URL="file://$root/.state"
fi
if [ -z "\${PULUMI_CONFIG_PASSPHRASE+set}\${PULUMI_CONFIG_PASSPHRASE_FILE+set}" ]; then
  PULUMI_CONFIG_PASSPHRASE_FILE="$root/.state/passphrase"; export PULUMI_CONFIG_PASSPHRASE_FILE
fi
# The program is type-checked by npm test (tsc), not again when it runs: our language host then runs it
# compiled once per state of its sources (.tools/program/), not through ts-node each time.
: "\${PULUMI_NODEJS_TRANSPILE_ONLY:=true}"
PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
export PULUMI_BACKEND_URL PULUMI_NODEJS_TRANSPILE_ONLY PULUMI_SKIP_UPDATE_CHECK PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION
${extra_path:+PATH=\"$extra_path\$PATH\"; export PATH}
exec "$engine" "\$@"
SH
current_step=""
echo "setup: done: $("$tools/bin/pulumi" version) at $engine" >&2
