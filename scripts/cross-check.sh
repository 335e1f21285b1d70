#!/usr/bin/env bash
# Other systems, checked from Linux (CI runs it; README "Windows and macOS"):
#   - Windows: every library package compiled for windows/amd64 with cgo
#     (DuckDB's bindings included) by Debian's MinGW, and main.go vetted.
#     Not linked: DuckDB's prebuilt Windows library is built with a UCRT
#     MinGW (MSYS2's ucrt64), and Debian's MinGW is msvcrt-based, so the link
#     fails on UCRT and libstdc++ symbols. On Windows itself, MSYS2's UCRT64
#     gcc links it.
#   - macOS: the packages that do not need DuckDB compiled for darwin/arm64
#     and darwin/amd64 without cgo (cgo for macOS needs Apple's SDK).
# Installs Debian's MinGW (gcc-mingw-w64-x86-64) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."

CC_WIN=x86_64-w64-mingw32-gcc
if ! command -v "$CC_WIN" >/dev/null 2>&1; then
	SUDO=""
	if [ "$(id -u)" != 0 ]; then
		command -v sudo >/dev/null 2>&1 || { echo "cross-check: $CC_WIN is missing and apt-get needs root: apt-get install gcc-mingw-w64-x86-64" >&2; exit 1; }
		SUDO=sudo
	fi
	echo "cross-check: installing Debian's MinGW (gcc-mingw-w64-x86-64)"
	export DEBIAN_FRONTEND=noninteractive
	$SUDO apt-get update -qq
	$SUDO apt-get install -y -qq --no-install-recommends gcc-mingw-w64-x86-64 >/dev/null
fi

libs=$(go list -f '{{if ne .Name "main"}}{{.ImportPath}}{{end}}' ./...)
echo "cross-check: windows/amd64 (cgo, $($CC_WIN --version | head -n1)): compiling $(echo "$libs" | wc -w) packages"
GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=$CC_WIN go build $libs
GOOS=windows GOARCH=amd64 CGO_ENABLED=1 CC=$CC_WIN go vet main.go

nocgo=$(go list -f '{{if ne .Name "main"}}{{.ImportPath}}{{range .Deps}} {{.}}{{end}}{{end}}' ./... | grep -v duckdb | awk '{print $1}')
for arch in arm64 amd64; do
	echo "cross-check: darwin/$arch (no cgo): compiling $(echo "$nocgo" | wc -w) packages"
	GOOS=darwin GOARCH=$arch CGO_ENABLED=0 go build $nocgo
done
echo "cross-check: ok"
