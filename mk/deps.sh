#!/bin/sh
# make deps: install the Debian 12 packages Tern builds and tests with,
# only those missing; quiet when everything is there.
set -eu

# Build: the libraries DESIGN.md lists.  Test: the real peers.
PKGS="gcc make pkg-config
libssl-dev libdb-dev libspf2-dev libopendkim-dev libclamav-dev libcdb-dev
libevent-dev libldap-dev libcrypt-dev libidn2-dev
perl python3 openssl swaks ldap-utils dnsmasq-base procps netcat-openbsd
fetchmail"

missing=""
for p in $PKGS; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing="$missing $p"
	fi
done
[ -z "$missing" ] && exit 0

echo "make deps: installing:$missing"
if [ "$(id -u)" -ne 0 ]; then
	echo "make deps: these Debian packages are missing:$missing" >&2
	echo "make deps: run 'sudo make deps' (or install them with apt-get) and try again" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086
if ! apt-get install -y -q $missing; then
	apt-get update -q
	apt-get install -y -q $missing
fi
