#!/usr/bin/env bash
# The demo: builds mentord if needed, starts Dovecot and an SMTP server on
# loopback, and runs a sample CDSS program through two months with --now,
# printing the emails exchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x build/mentord ] || [ ! -x build/mentorctl ]; then
	cmake -S . -B build >/dev/null
	cmake --build build -j "$(nproc 2>/dev/null || echo 2)" >/dev/null
fi
MENTORD="$PWD/build/mentord" MENTORCTL="$PWD/build/mentorctl" MENTORD_SOURCE_DIR="$PWD" \
	exec /usr/bin/python3 tests/demo.py
