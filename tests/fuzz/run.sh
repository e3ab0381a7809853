#!/usr/bin/env bash
# Builds the libFuzzer targets with clang into build-fuzz/ and runs each for
# N seconds (default 15, about a minute and three quarters for the seven), seeded from the
# shared corpus (../shared/corpus next to the repository, or $MENTORD_CORPUS),
# the regression inputs in tests/fuzz/regressions/<target>/ and the
# dictionary tests/fuzz/<target>.dict.
# Exits non-zero when a target finds a crash, a leak, a sanitizer report or
# an input slower than the timeout; the input is in build-fuzz/artifacts/.
#
#   tests/fuzz/run.sh [seconds-per-target] [target...]
#
# Environment: FUZZ_TIMEOUT (seconds one input may take, default 3: the
# slowest seed takes about 0.5 s under ASan; a runaway input takes far more),
# BUILD_JOBS (default 2).
# New interesting inputs accumulate in build-fuzz/corpus/<target>/, so a
# long run continues where the last one stopped.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
seconds=${1:-15}
shift || true
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
	targets=(mime reply form command trust calendar csv)
fi
corpus=${MENTORD_CORPUS:-$root/../shared/corpus}
timeout=${FUZZ_TIMEOUT:-3}
build=$root/build-fuzz

if [ ! -d "$corpus" ]; then
	echo "run.sh: seed corpus $corpus not found (set MENTORD_CORPUS)" >&2
	exit 2
fi

# Debian's libetpan.pc passes a gcc -specs option that clang warns about on
# every link, so the build's output is shown only when it fails.
mkdir -p "$build"
if ! { CC=clang cmake -S "$root" -B "$build" -DMENTORD_FUZZ=ON \
	-DCMAKE_BUILD_TYPE=RelWithDebInfo &&
	cmake --build "$build" -j "${BUILD_JOBS:-2}" \
		--target $(printf 'fuzz_%s ' "${targets[@]}"); } >"$build/build.log" 2>&1; then
	cat "$build/build.log" >&2
	echo "run.sh: the fuzz build failed" >&2
	exit 2
fi

status=0
for t in "${targets[@]}"; do
	case $t in
	mime) max_len=65536 ;;
	reply) max_len=65536 ;;
	form) max_len=16384 ;;
	command) max_len=4096 ;;
	trust) max_len=65536 ;;
	calendar) max_len=65536 ;;
	csv) max_len=65536 ;;
	*)
		echo "run.sh: unknown target $t" >&2
		exit 2
		;;
	esac
	mkdir -p "$build/corpus/$t" "$build/artifacts/$t"
	echo "== fuzz_$t: ${seconds}s"
	# Leaks and UBSan reports are failures; the seed directories are read
	# only, new inputs go to the first directory.
	if ! ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		"$build/fuzz_$t" -max_total_time="$seconds" -max_len="$max_len" \
		-timeout="$timeout" -rss_limit_mb=2048 -print_final_stats=1 \
		-dict="$root/tests/fuzz/$t.dict" \
		-artifact_prefix="$build/artifacts/$t/" \
		"$build/corpus/$t" "$root/tests/fuzz/regressions/$t" "$corpus" \
		2>"$build/fuzz_$t.log"; then
		echo "fuzz_$t FAILED; log: $build/fuzz_$t.log, input(s):" >&2
		ls "$build/artifacts/$t" >&2 || true
		tail -n 60 "$build/fuzz_$t.log" >&2
		status=1
	fi
	grep -E '^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
		"$build/fuzz_$t.log" || true
done
exit $status
