#!/usr/bin/env bash
# A binary built from a git checkout names its commit: in --version, in the
# manifest.json of a harvest and in every Parquet file's created_by (see
# internal/buildinfo). Skipped outside a git checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! rev=$(git rev-parse --short=12 HEAD 2>/dev/null); then
	echo "version-check: not a git checkout; skipped"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# -buildvcs=true: stamp the commit even where GOFLAGS says -buildvcs=false.
go build -buildvcs=true -o "$tmp/adharvest" .
version=$("$tmp/adharvest" --version)
echo "version-check: $version"
case "$version" in
*"$rev"*) ;;
*) echo "version-check: --version does not name commit $rev" >&2; exit 1 ;;
esac
"$tmp/adharvest" demo --out "$tmp/demo" --progress none > "$tmp/demo.log" 2>&1 || { cat "$tmp/demo.log" >&2; exit 1; }
grep -q "\"version\": \"[^\"]*$rev" "$tmp/demo/manifest.json" || { echo "version-check: manifest.json does not name $rev:" >&2; grep '"version"' "$tmp/demo/manifest.json" >&2; exit 1; }
part=$(find "$tmp/demo/ads" -name '*.parquet' | head -n1)
created=$("$tmp/adharvest" sql --out "$tmp/demo" --format csv "SELECT created_by FROM parquet_file_metadata('$part')" | tail -n1)
case "$created" in
"adharvest version "*"(build $rev"*) echo "version-check: created_by $created" ;;
*) echo "version-check: $part: created_by \"$created\" does not name $rev" >&2; exit 1 ;;
esac
echo "version-check: ok"
