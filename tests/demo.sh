#!/usr/bin/env bash
# The demo: builds mentord (incrementally), starts Dovecot and an SMTP server on
# loopback, and runs a sample program with --now, printing the emails
# exchanged: `tests/demo.sh` (or `tests/demo.sh cdss`) a CDSS partnership
# through two months; `tests/demo.sh cde` a CDE Peer Coaching team through
# six months, to the certificates of completion; `tests/demo.sh calpers`
# CalPERS Informal Mentoring: opt-in, the monthly offers and asks, stop;
# `tests/demo.sh lausd` the LAUSD survey: roster, survey, answers, reminders.
# `tests/demo.sh dol` the DOL SES CDP cohort's sessions (invitations,
# answers, attendance).
set -euo pipefail
cd "$(dirname "$0")/.."
# Always built (incrementally): a binary older than the sources and the
# example configuration would refuse what they now say.
[ -f build/CMakeCache.txt ] || cmake -S . -B build >/dev/null
cmake --build build -j "$(nproc 2>/dev/null || echo 2)" --target mentord mentorctl >/dev/null
MENTORD="$PWD/build/mentord" MENTORCTL="$PWD/build/mentorctl" MENTORD_SOURCE_DIR="$PWD" \
	exec /usr/bin/python3 tests/demo.py "$@"
