#!/usr/bin/env bash
# Installs Debian's Chromium (and fonts for the scripts that the fake API's
# names use: CJK and emoji) for scripts/browser-check.sh. Idempotent and
# non-interactive: exits 0 at once when everything is already there.
set -euo pipefail

FONTS=(fonts-dejavu-core fonts-wqy-microhei fonts-noto-color-emoji)

missing_fonts=()
for p in "${FONTS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
		missing_fonts+=("$p")
	fi
done
if [ -x /usr/bin/chromium ] && [ ${#missing_fonts[@]} -eq 0 ]; then
	exit 0
fi

SUDO=""
if [ "$(id -u)" != 0 ]; then
	if command -v sudo >/dev/null 2>&1; then
		SUDO="sudo"
	else
		echo "install-chromium: cannot run apt-get (not root, no sudo); install chromium ${missing_fonts[*]} by hand" >&2
		[ -x /usr/bin/chromium ] # fonts only make the screenshot prettier
		exit $?
	fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-chromium: installing Debian packages: $([ -x /usr/bin/chromium ] || echo chromium) ${missing_fonts[*]}"
$SUDO apt-get update -qq
if [ ! -x /usr/bin/chromium ]; then
	$SUDO apt-get install -y -qq --no-install-recommends chromium "${missing_fonts[@]}" >/dev/null
else
	# Chromium is there: the fonts are a nicety, not worth failing CI for.
	$SUDO apt-get install -y -qq --no-install-recommends "${missing_fonts[@]}" >/dev/null ||
		echo "install-chromium: could not install ${missing_fonts[*]}; some names may render as boxes" >&2
fi
test -x /usr/bin/chromium
/usr/bin/chromium --version 2>/dev/null || true
