#!/usr/bin/env bash
# The Debian package, built from this tree and installed on this machine as
# an administrator would on a fresh Debian 12 (`apt install ./mentord_*.deb`):
# CI's machine is one, owned by the run.  Builds build-pkg/ with the prefix
# /usr, makes the .deb with `cpack -G DEB`, checks its control data and
# files, installs it with apt, and checks what an administrator relies on:
# the binaries and their version, the mentord user and its directories, the
# conffiles (kept when changed), the service enabled but not started,
# `mentord --check-config` from the installed paths refusing the example
# until the passwords exist and accepting it then, the man pages and the
# completion.  Then it purges the package and removes what it made (the
# user and /var/lib/mentord too, unless they were there before).
#
# Needs root.  Refuses to run where mentord is installed other than by this
# script (it would replace it).  Called by tests/run.sh; alone:
#   sudo tests/package.sh
set -euo pipefail
cd "$(dirname "$0")/.."
src=$PWD
build=${MENTORD_PACKAGE_BUILD:-$src/build-pkg}
jobs=$(nproc 2>/dev/null || echo 2)

if [ "$(id -u)" -ne 0 ]; then
	echo "package.sh: run as root (it installs the package with apt)" >&2
	exit 1
fi
exec 9>/tmp/mentord-package-test.lock
flock 9

passed=0
failed=0
check() { # check DESCRIPTION COMMAND...
	local what=$1
	shift
	if "$@" >/tmp/mentord-package-check.out 2>&1; then
		passed=$((passed + 1))
		echo "ok    $what"
	else
		failed=$((failed + 1))
		echo "FAIL  $what"
		sed 's/^/      /' /tmp/mentord-package-check.out | head -20
	fi
}

# What this machine had before, so that cleaning up leaves it so.
if dpkg-query -W -f='${db:Status-Status}' mentord 2>/dev/null | grep -qx installed; then
	if [ ! -e /var/lib/mentord/.package-test ]; then
		echo "package.sh: mentord is installed here and not by this test; not replacing it" >&2
		exit 1
	fi
elif [ -e /usr/bin/mentord ] || [ -e /etc/mentord/mentord.conf ]; then
	echo "package.sh: /usr/bin/mentord or /etc/mentord exists but no package owns it;" \
		"not overwriting it" >&2
	exit 1
fi
had_user=no
getent passwd mentord >/dev/null && had_user=yes
had_state=no
[ -d /var/lib/mentord ] && [ ! -e /var/lib/mentord/.package-test ] && had_state=yes

cleanup() {
	DEBIAN_FRONTEND=noninteractive apt-get purge -y mentord >/dev/null 2>&1 || true
	rm -f /etc/mentord/imap.password /etc/mentord/smtp.password
	rmdir /etc/mentord/programs /etc/mentord 2>/dev/null || true
	if [ "$had_state" = no ]; then
		rm -rf /var/lib/mentord
	fi
	if [ "$had_user" = no ] && getent passwd mentord >/dev/null; then
		userdel mentord
		getent group mentord >/dev/null && groupdel mentord
	fi
	rm -f /tmp/mentord-package-check.out
}
trap cleanup EXIT

# ---- build ----
# Only what is installed is built (not the tests): CMAKE_SKIP_INSTALL_ALL_DEPENDENCY.
cmake -S "$src" -B "$build" -DCMAKE_INSTALL_PREFIX=/usr -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	-DMENTORD_WERROR=ON -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON >/dev/null
cmake --build "$build" -j "$jobs" --target mentord mentorctl man
rm -f "$build"/mentord_*.deb
(cd "$build" && cpack -G DEB >/dev/null)
deb=$(ls "$build"/mentord_*.deb)
echo "built $deb"

# ---- the package itself ----
depends=$(dpkg-deb -f "$deb" Depends)
for dep in libcurl3-gnutls libxml2 libcairo2 libical3 fonts-dejavu-core \
	libetpan20 libconfuse2 libsqlite3-0 libgnutls30 libsystemd0 libc6; do
	check "Depends names $dep" grep -Eq "(^|, )$dep( |,|$)" <<<"$depends"
done
contents=$(dpkg-deb -c "$deb" | awk '{print $6}')
for path in ./usr/bin/mentord ./usr/bin/mentorctl ./etc/mentord/mentord.conf \
	./etc/mentord/programs/cdss.conf ./etc/mentord/programs/cde.conf \
	./usr/share/mentord/templates/cde/month-topic.txt ./lib/systemd/system/mentord.service \
	./usr/lib/sysusers.d/mentord.conf ./usr/lib/tmpfiles.d/mentord.conf \
	./usr/share/mentord/templates/questionnaire.txt ./usr/share/man/man8/mentord.8.gz \
	./usr/share/man/man8/mentorctl.8.gz ./usr/share/man/man5/mentord.conf.5.gz \
	./usr/share/bash-completion/completions/mentorctl \
	./usr/share/doc/mentord/examples/mentord.conf; do
	check "the package installs $path" grep -qx "$path" <<<"$contents"
done
check "nothing goes to /usr/etc or /usr/local" bash -c '! grep -Eq "^\./usr/(etc|local)/" <<<"$1"' _ "$contents"
# Every program the source ships is a conffile, whatever programs exist.
want_conffiles=$({
	echo /etc/mentord/mentord.conf
	for f in conf/programs/*.conf; do echo "/etc/mentord/programs/${f##*/}"; done
} | sort | tr "\n" " ")
check "conffiles: /etc/mentord/mentord.conf and the programs" \
	bash -c '[ "$(dpkg-deb --ctrl-tarfile "$1" | tar -xO ./conffiles | sort | tr "\n" " ")" = "$2" ]' _ "$deb" "$want_conffiles"

# ---- install ----
DEBIAN_FRONTEND=noninteractive apt-get install -y "$deb" >/tmp/mentord-package-apt.log 2>&1 || {
	cat /tmp/mentord-package-apt.log
	echo "FAIL  apt-get install $deb"
	exit 1
}
touch /var/lib/mentord/.package-test
check "apt installed it" dpkg-query -W -f='${db:Status-Status}\n' mentord
check "postinst says the service waits for its configuration" \
	grep -q "enabled, but not started: configure it first" /tmp/mentord-package-apt.log
rm -f /tmp/mentord-package-apt.log
check "/usr/bin/mentord --version" bash -c '[ "$(/usr/bin/mentord --version)" = "mentord $1" ]' _ \
	"$(dpkg-query -W -f='${Version}' mentord)"
check "/usr/bin/mentorctl --version" bash -c '/usr/bin/mentorctl --version | grep -qx "mentord [0-9.]*"'
check "the mentord user exists, home /var/lib/mentord, no shell" \
	bash -c 'getent passwd mentord | grep -Eq "^mentord:x:[0-9]+:[0-9]+:[^:]*:/var/lib/mentord:/usr/sbin/nologin$"'
check "/var/lib/mentord is mentord's, mode 750" bash -c '[ "$(stat -c "%U:%G %a" /var/lib/mentord)" = "mentord:mentord 750" ]'
check "/etc/mentord is root:mentord, mode 750" bash -c '[ "$(stat -c "%U:%G %a" /etc/mentord)" = "root:mentord 750" ]'
check "dpkg knows the conffiles" bash -c 'dpkg-query -W -f="\${Conffiles}" mentord | grep -q "/etc/mentord/programs/cdss.conf"'
check "mentord.service is enabled" bash -c '[ "$(systemctl is-enabled mentord.service 2>/dev/null)" = enabled ]'
if [ -d /run/systemd/system ]; then
	check "mentord.service is not started" bash -c '! systemctl is-active --quiet mentord.service'
else
	check "mentord.service is not started (no systemd running: no mentord process of the mentord user)" \
		bash -c '! pgrep -x -u mentord mentord'
fi
check "the man pages are found" man -w mentord mentorctl mentord.conf
check "the completion loads" bash -c 'source /usr/share/bash-completion/completions/mentorctl && complete -p mentorctl'

# The example refers to password files that do not exist yet: refused with
# the line to fix, read from the default path by the installed binary.
check "the example is refused until the password files exist" bash -c '
	out=$(runuser -u mentord -- /usr/bin/mentord --check-config 2>&1); rc=$?
	[ $rc -eq 2 ] && grep -q "^/etc/mentord/mentord.conf:[0-9]*: password_file /etc/mentord/imap.password" <<<"$out"'
for f in imap smtp; do
	printf '%s\n' "package-test-$f-secret" |
		install -m 600 -o mentord -g mentord /dev/stdin /etc/mentord/$f.password
done
check "mentord --check-config (installed paths, as mentord) accepts it then" \
	bash -c 'runuser -u mentord -- /usr/bin/mentord --check-config | grep -qx "/etc/mentord/mentord.conf: configuration OK (1 program)"'
check "mentord --print-config shows the installed paths, no secret" bash -c '
	out=$(runuser -u mentord -- /usr/bin/mentord --print-config)
	grep -q "^templates = \"/usr/share/mentord/templates\"$" <<<"$out" &&
	grep -q "password_file = \"/etc/mentord/imap.password\"" <<<"$out" &&
	! grep -q "package-test-" <<<"$out"'

# A changed conffile survives a reinstall.
echo "# changed by tests/package.sh" >>/etc/mentord/mentord.conf
DEBIAN_FRONTEND=noninteractive apt-get install -y --reinstall -o Dpkg::Options::=--force-confold \
	"$deb" >/dev/null 2>&1
check "a changed /etc/mentord/mentord.conf is kept on reinstall" \
	grep -q "changed by tests/package.sh" /etc/mentord/mentord.conf

# ---- purge ----
DEBIAN_FRONTEND=noninteractive apt-get purge -y mentord >/dev/null 2>&1
check "purge removes the binaries and the conffiles" \
	bash -c '[ ! -e /usr/bin/mentord ] && [ ! -e /etc/mentord/mentord.conf ]'
check "purge removes the enablement" bash -c '[ ! -e /etc/systemd/system/multi-user.target.wants/mentord.service ]'

echo "package: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
