#!/bin/sh
# make bench: every benchmark, each printing our figure (and, where there
# is one, the anchor's figure measured in the same run).  Not tests:
# nothing here passes or fails on a number.
set -u
build=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
export TERN_BUILD="$build"

echo "== accounts (issue #3): rebuild and lookups"
python3 "$here/accounts_bench.py"

echo "== auth (issue #3): logins per second, yescrypt at the default cost"
echo "-- 100 users logging in repeatedly (auth cache on, the default)"
python3 "$here/auth_bench.py" --count 4000 --users 100 --limit 120
echo "-- every login pays the full hash (auth_cache_size = 0)"
python3 "$here/auth_bench.py" --count 300 --cache 0 --limit 60

echo "== pop3 (issue #7): pop3d beside Dovecot's pop3d, same maildirs"
python3 "$here/pop3_bench.py" --limit 300

echo "== imap (issue #8): mixed workload and idle memory, beside Dovecot"
python3 "$here/imap_bench.py" --limit 300

echo "== queue (issue #5): start on a spool of 1,000,000 messages"
python3 "$here/queue_restart.py" --count 1000000 --run 30
echo "-- kill -9 of the queue and the agents during 5,000 messages"
QUEUE_KILL_N=5000 python3 "$here/../integ/queue_kill.t"

echo "== smtp in (issue #4): messages/s accepted and made durable, beside Postfix"
python3 "$here/smtp_bench.py" --mode accept --limit 300
echo "== smtp to Maildir (issue #5): end to end and memory, beside Postfix"
python3 "$here/smtp_bench.py" --mode e2e --limit 300
echo "== remote delivery (issue #6): relayed to smtp-sink, beside Postfix"
python3 "$here/remote_bench.py" --limit 300
