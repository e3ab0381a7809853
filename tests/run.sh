#!/usr/bin/env bash
# The whole test suite: a -Werror build and its ctest run, the Debian
# package installed and purged, then the same suite built with
# AddressSanitizer and UndefinedBehaviorSanitizer.
# Integration tests start their own Dovecot and SMTP server on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
jobs=$(nproc 2>/dev/null || echo 2)

cmake -S . -B build -DMENTORD_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
cmake --build build -j "$jobs"
(cd build && ctest --output-on-failure -j "$jobs")

# The Debian package: built from the tree, installed with apt on this
# machine, checked from the installed paths, purged (tests/package.sh).
tests/package.sh

cmake -S . -B build-asan -DMENTORD_WERROR=ON -DMENTORD_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
cmake --build build-asan -j "$jobs"
(cd build-asan && ctest --output-on-failure -j "$jobs")

# A short libFuzzer run of each parser (clang, ASan + UBSan, 15 s each,
# seeded from ../shared/corpus); fails on any crash, leak or slow input.
tests/fuzz/run.sh 15
