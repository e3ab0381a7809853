#!/usr/bin/env bash
# Installs what mentord needs to build, test and run its demo on Debian 12.
# libetpan-dev pulls in libcurl4-gnutls-dev; do not add libcurl4-openssl-dev
# (the two conflict).  python3-aiosmtpd is for Debian's /usr/bin/python3.
# cairo draws the certificate of completion with the DejaVu fonts; the tests
# read it back with poppler-utils' pdftotext.  libical writes and reads the
# calendar invitations.  test_trust reads the order of system calls with
# strace and a process's own peak memory with GNU time.  man-db (with
# groff-base) checks the man pages (`man --warnings`); dpkg-dev's
# dpkg-shlibdeps finds the package's dependencies, and systemd makes its
# user and directories (tests/package.sh).
set -euo pipefail
packages=(
	build-essential cmake pkg-config clang libclang-rt-14-dev
	libetpan-dev libcurl4-gnutls-dev libsqlite3-dev sqlite3 libconfuse-dev libxml2-dev
	libgnutls28-dev nettle-dev libsystemd-dev libcmocka-dev libjson-c-dev
	libcairo2-dev fonts-dejavu-core libical-dev poppler-utils
	dovecot-imapd python3 python3-aiosmtpd openssl tzdata ca-certificates
	strace time man-db dpkg-dev systemd
)
# --bench adds what tests/bench/run.sh compares mentord with: Postfix's
# smtp-sink and smtp-source, isync's mbsync, and SciPy's
# linear_sum_assignment (python3-scipy, for /usr/bin/python3).  Not needed
# by the tests.
if [ "${1:-}" = "--bench" ]; then
	packages+=(postfix isync procps python3-scipy)
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps.sh: run as root (sudo $0)" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update
apt-get install -y --no-install-recommends "${packages[@]}"
# Debian starts Dovecot (and Postfix) on install where it can; the tests
# and benchmarks run their own on free ports.
for service in dovecot postfix; do
	if command -v systemctl >/dev/null && systemctl is-active --quiet "$service" 2>/dev/null; then
		systemctl stop "$service" || true
	fi
done
