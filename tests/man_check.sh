#!/bin/sh
# Checks man pages as CI does: `man --warnings -l PAGE` (groff -ww) must
# print no warning, and the page must render.  Usage: man_check.sh PAGE...
set -u
status=0
if ! command -v man >/dev/null 2>&1; then
	echo "man_check.sh: man is not installed (tests/install-deps.sh installs man-db)" >&2
	exit 1
fi
for page in "$@"; do
	warnings=$(LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" 2>&1 >/dev/null)
	lines=$(LC_ALL=C.UTF-8 MANWIDTH=80 man -l "$page" 2>/dev/null | wc -l)
	if [ -n "$warnings" ]; then
		printf '%s:\n%s\n' "$page" "$warnings" >&2
		status=1
	elif [ "$lines" -lt 20 ]; then
		printf '%s: renders to only %s lines\n' "$page" "$lines" >&2
		status=1
	else
		printf '%s: ok (%s lines)\n' "$page" "$lines"
	fi
done
exit $status
