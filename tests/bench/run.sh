#!/usr/bin/env bash
# mentord benchmarks: one command, not part of ctest's pass/fail.
#
#   sudo tests/bench/run.sh            full sizes (about 5-10 minutes)
#   sudo tests/bench/run.sh --quick    small sizes, to try it out (about 1 minute)
#   tests/bench/run.sh --only match    the matching section alone (no server, no root)
#   sudo tests/bench/run.sh --only survey   the LAUSD survey at 38,000 (survey_bench.py)
#
# Builds mentord (RelWithDebInfo, into build/ unless MENTORD_BENCH_BUILD says
# otherwise), starts its own Dovecot and Postfix smtp-sink on loopback,
# prints a table of ratios measured in this run and writes it to
# BENCHMARKS.md.  Other options are passed to tests/bench/bench.py (--only
# ingest,send,push,sched; --keep; --output FILE).  The matching section
# (tests/bench/match_bench.py: mentord's assignment against SciPy's on the
# same 3,000 x 3,000 matrix, and 10,000 applicants into teams) runs last,
# and prints its own table.
set -euo pipefail
cd "$(dirname "$0")/../.."

# --only: "match" is this script's section; the rest go to bench.py.
args=()
only=""
while [ $# -gt 0 ]; do
	case "$1" in
	--only)
		only=${2:-}
		shift 2 || shift
		;;
	--only=*)
		only=${1#--only=}
		shift
		;;
	*)
		args+=("$1")
		shift
		;;
	esac
done
# --only survey: the LAUSD survey at 38,000 (tests/bench/survey_bench.py),
# alone; its rows are appended to BENCHMARKS.md by hand.
if [ "$only" = survey ]; then
	build=${MENTORD_BENCH_BUILD:-build}
	cmake -S . -B "$build" -DMENTORD_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target mentord mentorctl >/dev/null
	MENTORD_BENCH_BUILD="$build" exec /usr/bin/python3 tests/bench/survey_bench.py "${args[@]}"
fi
match=yes
servers=yes
if [ -n "$only" ]; then
	case ",$only," in
	*,match,*) ;;
	*) match=no ;;
	esac
	rest=$(echo ",$only," | sed -e 's/,match,/,/g' -e 's/^,//' -e 's/,$//')
	if [ -n "$rest" ]; then
		args+=(--only "$rest")
	else
		servers=no
	fi
fi
build=${MENTORD_BENCH_BUILD:-build}

run_match() {
	if ! /usr/bin/python3 -c 'import scipy' 2>/dev/null; then
		echo "bench: matching needs Debian's python3-scipy:" \
			"sudo tests/install-deps.sh --bench" >&2
		exit 1
	fi
	cmake -S . -B "$build" -DMENTORD_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target match_bench >/dev/null
	echo "bench: matching"
	quick=()
	case " ${args[*]-} " in
	*" --quick "*) quick=(--quick) ;;
	esac
	/usr/bin/python3 tests/bench/match_bench.py --build "$build" "${quick[@]}"
}
if [ "$servers" = no ]; then
	run_match
	exit 0
fi

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

cmake -S . -B "$build" -DMENTORD_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j "$(nproc 2>/dev/null || echo 2)" --target mentord mentorctl smtp_floor peak_rss >/dev/null
/usr/bin/python3 tests/bench/bench.py --build "$build" --build-type RelWithDebInfo "${args[@]}"

# Crash safety at full size: SIGKILL at 100 random instants while a backlog
# is drained and answered (ctest runs the same test with 15).
case " ${args[*]} " in
*" --quick "*) kills=15 ;;
*) kills=100 ;;
esac
echo "bench: crash test, $kills kills"
MENTORD="$build/mentord" MENTORCTL="$build/mentorctl" MENTORD_SOURCE_DIR="$PWD" \
	MENTORD_CRASH_KILLS=$kills /usr/bin/python3 tests/integration/test_crash.py |
	grep -v '^ok '

if [ "$match" = yes ]; then
	run_match
fi
