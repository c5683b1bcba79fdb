#!/bin/sh
# shellcheck shell=dash disable=SC3043  # busybox ash has "local"
# The guest scripts' side of the marker protocol (guest-test.sh,
# oracle-guest.sh source it from /kms; tests/vm/check_results.py reads it):
#   @@KMS BEGIN <step>          stdout of the step
#   @@KMS END <step> rc=<N> cs=<centiseconds it took>
#   @@KMS BEGIN <step>.stderr   stderr, only when there was some

# block NAME FILE: print FILE between markers, ending in a newline
block() {
	echo "@@KMS BEGIN $1"
	cat "$2"
	[ -s "$2" ] && [ -n "$(tail -c 1 "$2")" ] && echo
}

uptime_cs() { read -r up _ < /proc/uptime; echo "${up%.*}${up#*.}"; }

step() {
	local s=$1 rc t0
	shift
	t0=$(uptime_cs)
	"$@" > /tmp/out 2> /tmp/err
	rc=$?
	block "$s" /tmp/out
	echo "@@KMS END $s rc=$rc cs=$(($(uptime_cs) - t0))"
	if [ -s /tmp/err ]; then
		block "$s.stderr" /tmp/err
		echo "@@KMS END $s.stderr rc=0"
	fi
}
