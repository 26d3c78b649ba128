#!/bin/sh
# make run: a development instance in ./run/, owned by whoever runs it,
# listening on loopback only, with master in the foreground.
set -eu
build=$(cd "$1" && pwd)
top=$(pwd)
inst=$top/run
port=${TERN_DEMO_PORT:-10025}

mkdir -p "$inst"
if [ ! -e "$inst/tern.conf" ]; then
	cat > "$inst/tern.conf" <<CONF
# Development instance written by 'make run'; edit freely.
state_dir   = state
spool_dir   = spool
log_dir     = log
libexec_dir = $build/bin
CONF
	if [ "$(id -u)" -eq 0 ]; then
		# Children never run as root: give them the tern user.
		if ! getent passwd tern >/dev/null; then
			useradd --system --home-dir /nonexistent \
			    --shell /usr/sbin/nologin tern
		fi
		echo "mail_user   = tern" >> "$inst/tern.conf"
		chmod 755 "$inst"
	fi
fi
if [ ! -e "$inst/services.conf" ]; then
	cat > "$inst/services.conf" <<CONF
# Development services.  The protocol daemons join as they land; until
# then the line-echo service of the test suite shows master at work.
[echo]
program = $build/t/fixture/echod
listen  = 127.0.0.1:$port, unix:echo.sock
workers = 2
CONF
fi

"$build/bin/master" -f -c "$inst" &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid' INT TERM
i=0
until "$build/bin/adminctl" -c "$inst" status >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 $pid 2>/dev/null; then
		echo "make run: master did not start; see $inst/log/master.log" >&2
		exit 1
	fi
	sleep 0.1
done
cat <<MSG

Tern development instance in $inst (config, state, spool, log).
$("$build/bin/adminctl" -c "$inst" status)

  status:   $build/bin/adminctl -c $inst status
  try it:   printf 'PING\r\nQUIT\r\n' | nc 127.0.0.1 $port
  reload:   $build/bin/adminctl -c $inst reload
  logs:     $inst/log/
  stop:     Ctrl-C

MSG
wait $pid
