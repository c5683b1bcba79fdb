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

# issue 17: under systemd a traced command's cgroup is made in kmemscope's own
# delegated scope (user/session/sdscope.c)
scope() {
	/usr/sbin/kmemscope leaks -v -- sh -c 'cat /proc/self/cgroup > /tmp/cg' >/dev/null 2>/tmp/scope.err
	echo "leaks_rc=$?"
	grep "systemd scope" /tmp/scope.err | sed "s/^/said: /"	# -v: why there is none
	echo "command_cgroup=$(sed -n 's/^0:://p' /tmp/cg)"
	find /sys/fs/cgroup -maxdepth 1 -name 'kmemscope.*' | sed 's/^/plain=/'
}

# ... and systemd removes it when kmemscope is SIGKILLed (the command dies
# with it: PR_SET_PDEATHSIG), nothing left for a later sweep
scope_kill9() {
	local kpid dir i=0
	/usr/sbin/kmemscope leaks -- sleep 300 >/dev/null 2>&1 &
	kpid=$!
	while [ "$i" -lt 180 ]; do	# the program load, tens of seconds under TCG
		dir=$(find /sys/fs/cgroup -maxdepth 3 -type d -name "kmemscope-$kpid.scope" | head -1)
		[ -n "$dir" ] && [ -n "$(cat "$dir/command/cgroup.procs" 2>/dev/null)" ] && break
		sleep 1; i=$((i + 1))
	done
	echo "scope=$dir"
	kill -9 "$kpid"
	i=0
	while [ "$i" -lt 30 ] && [ -n "$dir" ] && [ -e "$dir" ]; do sleep 1; i=$((i + 1)); done
	echo "gone_after_s=$i"
	if [ -n "$dir" ] && [ ! -e "$dir" ]; then echo "scope_gone=1"; else echo "scope_gone=0"; fi
	echo "sleep_left=$(grep -lx sleep /proc/[0-9]*/comm 2>/dev/null | wc -l)"	# no procps here
	echo "units_left=$(systemctl list-units --all --no-legend 'kmemscope-*.scope' | wc -l)"
	echo "plain_left=$(find /sys/fs/cgroup -maxdepth 1 -name 'kmemscope.*' | wc -l)"
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
step scope scope
step scope_kill9 scope_kill9
echo "@@KMS EXIT rc=0"
sync
systemctl poweroff -ff
