#!/usr/bin/env bash
# Renders the report of a demo harvest in headless Chromium, as a reader would
# see it. Keeps a screenshot as artifacts/report.png (not committed) and fails
# when the browser logs a console message (with a Content-Security-Policy that
# forbids every load, any attempt to fetch something shows up there), when a
# chart renders without data marks or title, or when the screenshot is blank.
# Needs /usr/bin/chromium: scripts/install-chromium.sh installs it.
set -euo pipefail
cd "$(dirname "$0")/.."

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
	echo "browser-check: $CHROMIUM is missing; run scripts/install-chromium.sh first" >&2
	exit 1
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p artifacts
printf '# build artifacts of scripts/browser-check.sh\n*\n' > artifacts/.gitignore

echo "browser-check: building adharvest and harvesting the demo"
go build -o "$work/adharvest" .
"$work/adharvest" demo --out "$work/demo" --progress none > "$work/demo.log" 2>&1 || { cat "$work/demo.log" >&2; exit 1; }
"$work/adharvest" report --out "$work/demo"

url="file://$work/demo/report.html"
flags=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
	--disable-background-networking --disable-component-update --disable-sync
	--hide-scrollbars --enable-logging=stderr --v=0)

echo "browser-check: rendering $url in $("$CHROMIUM" --version 2>/dev/null | head -n1)"
timeout 120 "$CHROMIUM" "${flags[@]}" --user-data-dir="$work/profile-dom" \
	--dump-dom "$url" > "$work/dom.html" 2> "$work/dom.log"
rm -f artifacts/report.png
timeout 120 "$CHROMIUM" "${flags[@]}" --user-data-dir="$work/profile-shot" \
	--window-size=1280,7400 --screenshot="$PWD/artifacts/report.png" "$url" > "$work/shot.log" 2>&1

if grep -h ':CONSOLE' "$work/dom.log" "$work/shot.log" >&2; then
	echo "browser-check: the page logged console messages (above)" >&2
	exit 1
fi
if [ ! -s "$work/dom.html" ] || [ ! -s artifacts/report.png ]; then
	echo "browser-check: Chromium produced no DOM or no screenshot; its log:" >&2
	tail -n 20 "$work/dom.log" "$work/shot.log" >&2
	exit 1
fi
go run ./scripts/domcheck -min-charts 6 -no-empty-notes -png artifacts/report.png < "$work/dom.html"
echo "browser-check: ok; screenshot in artifacts/report.png"
