#!/usr/bin/env bash
# Builds the pulumi CLI from Go modules into a cache folder keyed by version, atomically:
# the binary appears under its final name only once it is complete.
# Usage: tools/build-cli.sh VERSION CACHE_DIR   (prints the path of the binary)
set -euo pipefail
version=$1 cache=$2
final="$cache/pulumi-v$version/pulumi"
if [ -x "$final" ]; then echo "$final"; exit 0; fi

mkdir -p "$cache"
work=$(mktemp -d "$cache/build-v$version.XXXXXX")
trap 'rm -rf "$work"' EXIT

export GOFLAGS=-mod=mod GOTOOLCHAIN=local GONOSUMDB= GOPRIVATE=
pkg=github.com/pulumi/pulumi/pkg/v3
sdk=github.com/pulumi/pulumi/sdk/v3
cd "$work"
go mod init vm-cluster.local/pulumi-cli >/dev/null 2>&1
# pkg's go.mod points sdk at a sibling folder and carries its own replaces; a module of ours must
# require both at one version and repeat pkg's non-local replaces, read from that version's go.mod.
go mod download "$pkg@v$version" "$sdk@v$version" >&2
pkgmod=$(go mod download -json "$pkg@v$version" | sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",$/\1/p')
go mod edit -require="$pkg@v$version" -require="$sdk@v$version"
grep -E '^replace [^ ]+ => [^.][^ ]* v' "$pkgmod" | while read -r _ from _ to ver; do
  go mod edit -replace="$from=$to@$ver"
done
printf '//go:build tools\n\npackage tools\n\nimport _ "%s/cmd/pulumi"\n' "$pkg" > tools.go  # keeps the requirement for tidy
go mod tidy >&2
go build -trimpath -o "$work/pulumi" \
  -ldflags "-s -w -X $sdk/go/common/version.Version=v$version" "$pkg/cmd/pulumi" >&2
"$work/pulumi" version >/dev/null
mkdir -p "$(dirname "$final")"
mv "$work/pulumi" "$final.partial" && mv "$final.partial" "$final"
echo "$final"
