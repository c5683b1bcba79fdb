#!/bin/sh
# shellcheck shell=dash disable=SC3043  # dash has "local"
# The shipped kmemscope-agent.service under a real systemd (PID 1 of a small
# Debian root booted by tools/vm/run-unit.sh). Runs as a oneshot service of
# that guest; the markers go to /dev/ttyS1 (a serial port of their own, so no
# kernel or systemd message lands inside a block); tests/vm/check_unit.py judges.
# The unit and the binary were put in by `make install DESTDIR=… PREFIX=/usr`
# on the host, /etc/default/kmemscope-agent names a --textfile. Ends with
# systemctl poweroff -ff.
exec >/dev/ttyS1 2>&1
# shellcheck source=tests/vm/guest-lib.sh
. /kms/guest-lib.sh
PATH=/usr/sbin:/usr/bin:/sbin:/bin
U=kmemscope-agent.service
TEXTFILE=/var/lib/prometheus/node-exporter/kmemscope.prom

prop() { systemctl show -p "$1" --value "$U"; }
# scrape: GET /metrics with bash's /dev/tcp (nothing to install; busybox's
# static wget crashed in this root), the body only, and only after a 200
scrape() {
	timeout 20 bash -c 'exec 3<>/dev/tcp/127.0.0.1/19183 &&
		printf "GET /metrics HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" >&3 && cat <&3' > /tmp/http ||
		return 1
	head -1 /tmp/http | grep -q '^HTTP/1\.[01] 200 ' || { head -1 /tmp/http >&2; return 1; }
	sed '1,/^\r\{0,1\}$/d' /tmp/http
}

# wait_up SECONDS: until the unit is active and /metrics answers (a program
# load verifies for tens of seconds under TCG)
wait_up() {
	local i=0
	while [ "$i" -lt "$1" ]; do
		[ "$(prop ActiveState)" = active ] && scrape >/dev/null 2>&1 && return 0
		sleep 1; i=$((i + 1))
	done
	return 1
}

state() {
	for p in ActiveState SubState MainPID NRestarts Result ExecMainStatus; do
		echo "$p=$(prop "$p")"
	done
}

# the agent's mount namespace: ProtectSystem=strict makes /usr and /etc
# read-only there, ReadWritePaths keeps the textfile directory writable
protect() {
	local pid
	pid=$(prop MainPID)
	if nsenter -t "$pid" -m touch /usr/kms-unit-probe 2>/dev/null; then echo "usr=writable"; else echo "usr=readonly"; fi
	if nsenter -t "$pid" -m touch /etc/kms-unit-probe 2>/dev/null; then echo "etc=writable"; else echo "etc=readonly"; fi
	if nsenter -t "$pid" -m touch /var/lib/prometheus/node-exporter/probe 2>/dev/null; then
		echo "textfile_dir=writable"
	else
		echo "textfile_dir=readonly"
	fi
	rm -f /var/lib/prometheus/node-exporter/probe
	if touch /usr/kms-unit-probe 2>/dev/null; then echo "host_usr=writable"; rm -f /usr/kms-unit-probe; fi
}

caps() {
	local pid
	pid=$(prop MainPID)
	grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs|Uid)' "/proc/$pid/status"
	echo "unit_bounding=$(prop CapabilityBoundingSet)"
}

# a workload between scrapes: pipes and files move the kmalloc and page series
churn() {
	local i=0
	while [ "$i" -lt 100 ]; do
		echo x | cat >/dev/null
		i=$((i + 1))
	done
}

reload() {
	local before after
	before=$(prop MainPID)
	systemctl reload "$U" || return 1
	sleep 3
	after=$(prop MainPID)
	echo "pid_before=$before"
	echo "pid_after=$after"
	state
	journalctl -q -u "$U" --no-pager -o cat | grep SIGHUP
	scrape >/dev/null && echo "scrape=ok"
}

kill9() {
	local before i=0
	before=$(prop MainPID)
	echo "pid_killed=$before"
	kill -9 "$before"
	# RestartSec=5s, then the program load
	while [ "$i" -lt 120 ]; do
		sleep 1; i=$((i + 1))
		pid=$(prop MainPID)
		[ "$pid" != 0 ] && [ "$pid" != "$before" ] && wait_up 60 && break
	done
	echo "pid_new=$(prop MainPID)"
	echo "waited_s=$i"
	state
}

step uname uname -r
step version /usr/sbin/kmemscope --version
step unit_file systemctl cat "$U"
step verify systemd-analyze verify --man=no "$U"
step start systemctl start "$U"
step up wait_up 180
step state state
step caps caps
step protect protect
step scrape1 scrape
step churn churn
sleep 3
step scrape2 scrape
step textfile cat "$TEXTFILE"
step reload reload
step kill9 kill9
step scrape3 scrape
step stop systemctl stop "$U"
step stopped state
step journal journalctl -q -u "$U" --no-pager -o short-monotonic
echo "@@KMS EXIT rc=0"
sync
systemctl poweroff -ff
