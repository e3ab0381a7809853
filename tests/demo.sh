#!/usr/bin/env bash
# The demo: builds mentord (incrementally), starts Dovecot and an SMTP server on
# loopback, and runs a sample CDSS program through two months with --now,
# printing the emails exchanged.
set -euo pipefail
cd "$(dirname "$0")/.."
# Always built (incrementally): a binary older than the sources and the
# example configuration would refuse what they now say.
[ -f build/CMakeCache.txt ] || cmake -S . -B build >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target mentord mentorctl >/dev/null
MENTORD="$PWD/build/mentord" MENTORCTL="$PWD/build/mentorctl" MENTORD_SOURCE_DIR="$PWD" \
	exec /usr/bin/python3 tests/demo.py
