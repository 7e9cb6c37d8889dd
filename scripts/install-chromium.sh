#!/bin/sh
# Headless Chromium for the reporting dashboard's browser test (Debian's `chromium` package).
# Installs only when it is missing, so running it twice is harmless.
set -eu
# fonts-wqy-microhei: without a CJK font the dashboard's Chinese renders as boxes in screenshots.
if [ -x /usr/bin/chromium ] && fc-list 2>/dev/null | grep -qi "WenQuanYi Micro Hei"; then
  echo "chromium already installed: $(/usr/bin/chromium --version 2>/dev/null || echo /usr/bin/chromium)"
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update
$SUDO apt-get install -y -q chromium fonts-wqy-microhei
