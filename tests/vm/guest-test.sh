#!/bin/sh
# shellcheck shell=dash disable=SC3043,SC2016  # busybox ash has "local"
# Guest side of the VM tests (busybox sh). Runs each step and prints its
# output between markers; tests/vm/check_results.py on the host judges them:
#   @@KMS BEGIN <step>          stdout of the step
#   @@KMS END <step> rc=<N> cs=<centiseconds it took>
#   @@KMS BEGIN <step>.stderr   stderr, only when there was some
# Inputs in /kms: guest-lib.sh, kmemscope (the static tracer), kmemscope_test.ko
# (when it could be built for this kernel). Steps that cannot run are simply absent.
CTL=/sys/kernel/debug/kmemscope_test/ctl
KMS=/kms/kmemscope
KO=/kms/kmemscope_test.ko

# block, step, uptime_cs: the marker protocol (installed beside this script)
# shellcheck source=tests/vm/guest-lib.sh
. /kms/guest-lib.sh

ctl() { echo "$*" > "$CTL"; }

# The workloads: step name, then the ctl command. Sizes are what
# check_results.py expects; change both together.
WORKLOADS='
kmalloc|kmalloc 100 256
kzalloc|kzalloc 50 1000
cache|cache 64
pages|pages 16 2
vmalloc|vmalloc 8 65536
vzalloc|vzalloc 8 12345
dma|dma 8 8192
app_leak|app_leak 32
driver_trim|driver_trim 4 3 5
mempool|mempool 10 512
'
HOLDS="app_leak driver_trim mempool"      # these hold without "keep"

BAD='
bad_empty|
bad_word|bogus
bad_noargs|kmalloc
bad_zero|kmalloc 0 10
bad_n|kmalloc 1000001 10
bad_size|kmalloc 10 4194305
bad_num|kmalloc 10 abc
bad_neg|kmalloc -1 10
bad_extra|kmalloc 10 10 keep extra
bad_keepword|kmalloc 10 10 kep
bad_order|pages 1 11
bad_total|pages 100000 10
bad_trim_s|driver_trim 1 3 9
bad_trim_k|driver_trim 1 0 1
bad_leak_keep|app_leak 5 keep
bad_leak_wrap|app_leak 18446744073709551615
bad_pool_wrap|mempool 18446744073709551613 8
bad_release|release now
'

is_hold() { case " $HOLDS " in *" $1 "*) return 0;; esac; return 1; }

module_tests() {
	step insmod insmod "$KO"
	[ -e "$CTL" ] || return
	step kallsyms awk '$4 == "[kmemscope_test]" && $3 ~ /^kmst_/ { print $2, $3 }' /proc/kallsyms
	step slab sh -c 'ls -ld /sys/kernel/slab/kmst_cache; grep "^kmst_cache " /proc/slabinfo'
	step slab_size cat /sys/kernel/slab/kmst_cache/slab_size   # bytes_alloc of one object
	echo "$WORKLOADS" | while IFS='|' read -r name cmd; do
		[ -n "$name" ] || continue
		if is_hold "$name"; then
			step "mod_$name" sh -c "echo '$cmd' > $CTL && cat $CTL && echo release > $CTL && cat $CTL"
		else
			step "mod_$name" sh -c "echo '$cmd keep' > $CTL && cat $CTL && echo release > $CTL && cat $CTL"
			step "mod_${name}_nokeep" sh -c "echo '$cmd' > $CTL && cat $CTL"
		fi
	done
	echo "$BAD" | while IFS='|' read -r name cmd; do
		[ -n "$name" ] && step "$name" sh -c "echo '$cmd' > $CTL"
	done
	# 1 GiB asked of a 1 GiB guest: some batch must fail with ENOMEM, no OOM kill
	step enomem sh -c "for c in 'kmalloc 64 4194304 keep' 'kzalloc 64 4194304 keep' \
		'pages 64 10 keep' 'dma 64 4194304 keep'; do echo \"\$c\" > $CTL; done; \
		cat $CTL; echo --; echo release > $CTL; cat $CTL"
	step bad_busy sh -c "echo 'kmalloc 1 8 keep' > $CTL; echo 'kmalloc 1 8 keep' > $CTL; r=\$?; echo release > $CTL; exit \$r"
}

# --cgroup: a pipe loop in /kms_t/a counts for --cgroup /kms_t (a descendant),
# one in /kms_c does not. Only where a cgroup2 hierarchy is mounted.
cgroup_test() {
	local cg
	cg=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	[ -n "$cg" ] && mkdir -p "$cg/kms_t/a" "$cg/kms_c" || return 0
	cat > /tmp/cgloop.sh <<EOF
echo \$\$ > "$cg\$1/cgroup.procs" || exit 1
i=0; while [ \$i -lt "\$2" ]; do echo x | cat > /dev/null; i=\$((i+1)); done
EOF
	step top_cgroup "$KMS" top --json --cgroup /kms_t -- sh -c \
		"sh /tmp/cgloop.sh /kms_t/a 200 && sh /tmp/cgloop.sh /kms_c 120"
}

tracer_tests() {
	step probes "$KMS" probes --json
	step top_pipes "$KMS" top --json -- sh -c \
		'i=0; while [ $i -lt 50 ]; do echo x | cat > /dev/null; i=$((i+1)); done'
	# --sample 8: the verifier sees the slab programs' sampled-out path only
	# when the rate is set (rodata), so load them with it
	step top_sample "$KMS" top --json --sample 8 -- sh -c \
		'i=0; while [ $i -lt 400 ]; do echo x | cat > /dev/null; i=$((i+1)); done'
	cgroup_test
	# page callers followed from learnt steps, checked against a walk each
	step callers_verify "$KMS" top --json --caller-cache verify -- sh -c \
		'i=0; while [ $i -lt 200 ]; do echo x | cat > /dev/null; i=$((i+1)); done'
	[ -e "$CTL" ] || return
	step callers_pages "$KMS" top --json --caller-cache verify -- sh -c \
		"for i in 1 2 3 4 5 6 7 8 9 10; do echo 'pages 4 1' > $CTL; done"
	ctl release
	echo "$WORKLOADS" | while IFS='|' read -r name cmd; do
		[ -n "$name" ] || continue
		step "top_$name" "$KMS" top --json -- sh -c "echo '$cmd' > $CTL"
		ctl release
	done
	# --sample 8 of 4000 kmallocs held together (distinct addresses): check_results.py SAMPLED
	step top_sample_kmalloc "$KMS" top --json --sample 8 -- sh -c \
		"echo 'kmalloc $SAMPLED 256 keep' > $CTL"
	ctl release
	# issue 15: kvmalloc and mempool_alloc, charged to their caller
	step top_wrapped "$KMS" top --json -- sh -c "echo 'wrapped $WRAPPED' > $CTL"
}
WRAPPED='20 300'	# check_results.py WRAPPED
SAMPLED=4000		# check_results.py SAMPLED

# leaks and check (issue 4). One session holds a batch of every family; the
# second one also releases it; check must fail a kept batch, pass a released one.
LEAK_KEEP='kmalloc 100 256 keep;cache 50 keep;pages 16 2 keep;vmalloc 8 65536 keep;dma 8 8192 keep'

# ctl_script CMDS: a shell line writing each ;-separated command to ctl
ctl_script() {
	echo "$1" | tr ';' '\n' | while read -r c; do printf "echo '%s' > %s && " "$c" "$CTL"; done
	echo true
}

leak_tests() {
	local keep
	keep=$(ctl_script "$LEAK_KEEP")
	step leaks_held "$KMS" leaks --json -- sh -c "$keep"
	ctl release
	step leaks_released "$KMS" leaks --json -- sh -c "$keep && echo release > $CTL"
	ctl release
	step check_leak "$KMS" check --json -- sh -c "echo 'kmalloc 10 256 keep' > $CTL"
	ctl release
	step check_clean "$KMS" check --json -- sh -c "echo 'kmalloc 10 256 keep' > $CTL && echo release > $CTL"
	ctl release
}

# frag (issue 5): the seed story at target order FRAG_ORDER. app_leak and
# driver_trim hold without "keep"; pfns lists the pages they hold.
FRAG_ORDER=9
FRAG_CMDS='app_leak 32;driver_trim 4 10 600'

frag_tests() {
	local cmds
	cmds=$(ctl_script "$FRAG_CMDS")
	# recorded too: the host draws its HTML map from it (frag_held_file)
	rm -f /tmp/frag.kms
	step frag_held "$KMS" frag --json --order $FRAG_ORDER -o /tmp/frag.kms -- sh -c "$cmds"
	[ -f /tmp/frag.kms ] && step frag_held_file base64 /tmp/frag.kms
	rm -f /tmp/frag.kms
	step frag_pfns cat /sys/kernel/debug/kmemscope_test/pfns
	ctl release
	step frag_released "$KMS" frag --json --order $FRAG_ORDER -- sh -c "$cmds && echo release > $CTL"
	ctl release
}

# record (issue 6): record in the guest, report on the host. The file travels
# base64-encoded in its own block (record_file), decoded by check_results.py.
record_tests() {
	rm -f /tmp/rec.kms
	step record "$KMS" record --json -o /tmp/rec.kms -- sh -c "echo 'kmalloc 100 256' > $CTL"
	[ -f /tmp/rec.kms ] && step record_file base64 /tmp/rec.kms
	rm -f /tmp/rec.kms
}

# rss_leaks N [keep]: kmemscope leaks while the module makes N kmallocs of 64
# bytes (with keep: and holds them).
# Prints "hwm_kb K" (VmHWM: the peak, table rehash and ring buffer included),
# "anon_kb K" and "file_kb K" (RssAnon, RssFile+RssShmem: the values seen most
# often while it ran, i.e. the plateau while it settles with the table full;
# the ring buffer's pages are file pages), then leaks' JSON.
# shellcheck disable=SC2317  # called through step
rss_leaks() {
	local pid rc
	"$KMS" leaks --ring-mb $RSS_RING_MB --json -- sh -c "echo 'kmalloc $1 64 $2' > $CTL" \
		> /tmp/rss.json 2> /tmp/rss.err &
	pid=$!
	: > /tmp/rss.samples
	while kill -0 "$pid" 2>/dev/null; do
		awk '/^VmHWM:/ { h = $2 } /^RssAnon:/ { a = $2 } /^Rss(File|Shmem):/ { f += $2 }
		     END { if (h) print h, a, f }' "/proc/$pid/status" >> /tmp/rss.samples 2>/dev/null
		sleep 0.2
	done
	wait "$pid"
	rc=$?
	awk '{ h = $1 > h ? $1 : h; n[$2 " " $3]++ }
	     END { for (k in n) if (n[k] > best) { best = n[k]; m = k }
		   split(m, x, " "); print "hwm_kb", h + 0; print "anon_kb", x[1] + 0; print "file_kb", x[2] + 0 }' /tmp/rss.samples
	cat /tmp/rss.json
	cat /tmp/rss.err >&2
	echo release > "$CTL"
	return "$rc"
}

# issue 7: tool memory per outstanding allocation. Baselines: a small batch
# held (idle), and the big batch allocated and freed at once (the same event
# volume, nothing outstanding); then the big batch held. Only on RSS_KERNELS
# (uname -r patterns: the newest of bookworm and the newest of all), as it
# takes half a minute of TCG time.
RSS_SMALL=1000
RSS_BIG=1000000
# The module's million kmallocs come in one burst on one CPU. Under one-thread
# TCG the reader's vCPU only runs in turns with it, and on a loaded host (CI
# boots guests side by side on 2 cores) it may hardly run at all, so the
# burst's records (2 M of 32 B: 64 MB) must fit the CPU's ring: 128 MiB of
# the 256 each. With 64 MiB each, arm64-6.12 lost 4 % of them once in 4 runs.
RSS_RING_MB=256
rss_tests() {
	case $(uname -r) in 6.12.*|[7-9].*) ;; *) return 0 ;; esac	# RSS_KERNELS
	[ "${KMS_RUNNER:-}" = vng ] && return 0		# see tools/vm/vng-init.sh
	step rss_small rss_leaks $RSS_SMALL keep
	step rss_churn rss_leaks $RSS_BIG
	step rss_big rss_leaks $RSS_BIG keep
}

rmmod_tests() {
	[ -e "$CTL" ] || return
	for c in 'kmalloc 10 64 keep' 'cache 5 keep' 'pages 4 2 keep' 'vmalloc 2 8192 keep' \
		 'dma 2 4096 keep' 'app_leak 4' 'driver_trim 2 2 3' 'mempool 3 100'; do
		ctl "$c"
	done
	# all eight kinds held; rmmod must free them and leave no cache behind
	step rmmod_held sh -c "cat $CTL; rmmod kmemscope_test && ! grep -q kmemscope_test /proc/modules && ! test -e /sys/kernel/slab/kmst_cache"
	step dmesg sh -c 'dmesg | grep -E "BUG|WARNING|Oops|Call Trace|oom-kill|kmemscope_test|kmst_" ; true'
}

# issue 15: the module loaded while kmemscope traces, so its symbols were not
# in kallsyms at start-up (after rmmod_tests unloaded it). Its workloads run
# at load (run=), from its own functions; top and record unload it again
# before the report, leaks and frag keep it loaded.
LATE_RUN="$LEAK_KEEP;mempool 10 512"

late_tests() {
	grep -q '^kmemscope_test ' /proc/modules && return
	step late_leaks "$KMS" leaks --json -- insmod "$KO" "run=\"$LATE_RUN\""
	rmmod kmemscope_test
	step late_top "$KMS" top --json --caller-cache verify -- sh -c \
		"insmod $KO 'run=\"$LATE_RUN\"' && rmmod kmemscope_test"
	rm -f /tmp/late.kms
	step late_record "$KMS" record --json -o /tmp/late.kms -- sh -c \
		"insmod $KO 'run=\"$LATE_RUN\"' && rmmod kmemscope_test"
	[ -f /tmp/late.kms ] && step late_record_file base64 /tmp/late.kms
	rm -f /tmp/late.kms
	step late_frag_held "$KMS" frag --json --order $FRAG_ORDER -- insmod "$KO" "run=\"$FRAG_CMDS\""
	step late_frag_pfns cat /sys/kernel/debug/kmemscope_test/pfns
	rmmod kmemscope_test
}

step uname uname -r
[ -f "$KO" ] && module_tests
if [ -x "$KMS" ]; then
	tracer_tests
	if [ -e "$CTL" ]; then
		leak_tests
		frag_tests
		record_tests
		rss_tests
	fi
fi
[ -f "$KO" ] && rmmod_tests
[ -f "$KO" ] && [ -x "$KMS" ] && late_tests
exit 0
