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
if [ "$(id -u)" -eq 0 ]; then
	# Owner of the password maps (auth_user): only the auth daemon runs
	# as it, so no network-facing daemon can read a hash.  Its primary
	# group is the mail user's, so it can enter state_dir and the other
	# daemons can connect to auth.sock (mode 0660, that group).
	if ! getent passwd tern-auth >/dev/null; then
		useradd --system --gid tern --home-dir /nonexistent \
		    --shell /usr/sbin/nologin tern-auth
	elif [ "$(id -gn tern-auth)" != "$(id -gn tern)" ]; then
		usermod --gid tern tern-auth
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
	if [ -x "$build/bin/auth" ]; then
		{
			echo
			echo "[auth]"
			echo "program = auth"
			echo "listen  = unix:auth.sock"
			echo "workers = 2"
			if [ "$(id -u)" -eq 0 ]; then
				echo "user    = tern-auth"
			fi
		} >> "$inst/services.conf"
	fi
fi

# add_service NAME PROGRAM LINES: append [NAME] to services.conf, when
# PROGRAM is built and the file has no such section yet (an instance
# from an older build gains the services that landed since).
add_service() {
	[ -x "$build/bin/$2" ] || return 0
	grep -q "^\[$1\]" "$inst/services.conf" && return 0
	printf '\n[%s]\nprogram = %s\n%s\n' "$1" "$2" "$3" >> "$inst/services.conf"
}
smtp_port=${TERN_DEMO_SMTP_PORT:-2525}
pop3_port=${TERN_DEMO_POP3_PORT:-1110}
imap_port=${TERN_DEMO_IMAP_PORT:-1143}
# SMTP in (smtpd(8)), plain, on loopback only; local delivery
# (delivery(8)); the queue manager (queue(8)) between them; remote
# delivery (delivery -r) by MX; reading mail (pop3d(8), imapd(8)) plain
# on loopback, where logins without TLS are allowed by default.
add_service smtp smtpd "listen  = 127.0.0.1:$smtp_port"
add_service delivery delivery "listen  = unix:delivery.sock
workers = 2"
add_service queue queue "listen  = unix:queue.sock"
add_service smtp-out delivery "args    = -r
listen  = unix:smtp-out.sock
workers = 2"
add_service pop3 pop3d "listen  = 127.0.0.1:$pop3_port"
add_service imap imapd "listen  = 127.0.0.1:$imap_port"

# A sample domain and user to log in with (adminctl(8)).
adminctl() { "$build/bin/adminctl" -c "$inst" "$@"; }
if [ ! -e "$inst/defaults/domain.conf" ]; then
	mkdir -p "$inst/defaults"
	cp "$top/conf/defaults/domain.conf" "$inst/defaults/domain.conf"
fi
if [ ! -e "$inst/domains" ]; then
	adminctl domain add example.test >/dev/null
	# 16 letters and digits with at least one digit (password policy).
	i=0
	pw=
	until printf '%s' "$pw" | grep -q '[0-9]'; do
		i=$((i + 1))
		[ $i -le 100 ] || { echo "make run: no password" >&2; exit 1; }
		pw=$(tr -dc 'A-Za-z0-9' < /dev/urandom | head -c 16)
	done
	printf '%s\n' "$pw" | adminctl user add demo@example.test \
	    'name=Demo User' --password-stdin >/dev/null
	(umask 077 && printf '%s\n' "$pw" > "$inst/demo-password")
fi
login=
if [ -e "$inst/demo-password" ]; then
	login="Log in as demo@example.test with password $(cat "$inst/demo-password")"
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
  mail it:  swaks --server 127.0.0.1:$smtp_port --to demo@example.test
  read it:  POP3 on 127.0.0.1:$pop3_port, IMAP on 127.0.0.1:$imap_port
  reload:   $build/bin/adminctl -c $inst reload
  accounts: $build/bin/adminctl -c $inst user list example.test
  logs:     $inst/log/
  stop:     Ctrl-C

$login
MSG
wait $pid
