#!/usr/bin/env bash
# mentord benchmarks: one command, not part of ctest's pass/fail.
#
#   sudo tests/bench/run.sh            full sizes (about 5-10 minutes)
#   sudo tests/bench/run.sh --quick    small sizes, to try it out (about 1 minute)
#
# Builds mentord (RelWithDebInfo, into build/ unless MENTORD_BENCH_BUILD says
# otherwise), starts its own Dovecot and Postfix smtp-sink on loopback,
# prints a table of ratios measured in this run and writes it to
# BENCHMARKS.md.  Other options are passed to tests/bench/bench.py (--only
# ingest,send,push,sched; --keep; --output FILE).
set -euo pipefail
cd "$(dirname "$0")/../.."

missing=()
for tool in dovecot doveadm smtp-sink smtp-source mbsync cmake /usr/bin/python3; do
	command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "bench: missing: ${missing[*]}" >&2
	echo "bench: install them with: sudo tests/install-deps.sh --bench" \
		"(Dovecot, Postfix for smtp-sink/smtp-source, isync for mbsync)" >&2
	exit 1
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "bench: run as root (sudo $0): Dovecot runs its logins as dovecot/dovenull" >&2
	exit 1
fi

build=${MENTORD_BENCH_BUILD:-build}
cmake -S . -B "$build" -DMENTORD_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target mentord mentorctl smtp_floor >/dev/null
/usr/bin/python3 tests/bench/bench.py --build "$build" --build-type RelWithDebInfo "$@"

# Crash safety at full size: SIGKILL at 100 random instants while a backlog
# is drained and answered (ctest runs the same test with 15).
case " $* " in
*" --quick "*) kills=15 ;;
*) kills=100 ;;
esac
echo "bench: crash test, $kills kills"
MENTORD="$build/mentord" MENTORCTL="$build/mentorctl" MENTORD_SOURCE_DIR="$PWD" \
	MENTORD_CRASH_KILLS=$kills /usr/bin/python3 tests/integration/test_crash.py |
	grep -v '^ok '

