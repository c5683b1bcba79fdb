#!/usr/bin/env bash
# Boot a fetched kernel with a busybox initramfs, run tests/vm/guest-test.sh
# in it and copy each step's output to build/vm/<kernel>/results/.
# Usage: tools/vm/run-vm.sh KERNEL
#   env: VM_TIMEOUT (s, default 600), VM_RUNNER (qemu | vng), VM_ACCEL (tcg | kvm),
#        KMEMSCOPE (tracer binary, default build/kmemscope.static; absent: no tracer steps),
#        VM_GUEST_SCRIPT (the guest script, default tests/vm/guest-test.sh),
#        VM_APPEND (more kernel command line, e.g. slub_debug=U),
#        VM_RESULTS (results directory name under build/vm/<kernel>, default results;
#        another name also gets its own console log, <name>.console.log)
# Exit: the guest's status; 1 when the guest died, hung or printed no status.
set -euo pipefail
# shellcheck source=tools/vm/lib.sh
. "$(dirname "$0")/lib.sh"

(($# == 1)) || usage "$0 KERNEL"
k=$1
dir=$(kdir_of "$k")
rel=$(release_of "$k")
timeout_s=${VM_TIMEOUT:-600}
tracer=${KMEMSCOPE:-$VM_ROOT/build/kmemscope.static}
res=$dir/${VM_RESULTS:-results}
console=$dir/console.log
[[ ${VM_RESULTS:-results} == results ]] || console=$dir/$VM_RESULTS.console.log

# Build the initramfs: busybox, /init, the guest script, tracer and module.
make_initramfs() {
	local t=$dir/initramfs
	rm -rf "$t"; mkdir -p "$t"/{bin,sbin,kms,etc}
	cp /bin/busybox "$t/bin/busybox"
	file -L "$t/bin/busybox" 2>/dev/null | grep -q 'statically linked' ||
		ldd /bin/busybox 2>&1 | grep -q 'not a dynamic' || die "/bin/busybox is not static (install busybox-static)"
	install -m 755 "$VM_ROOT/tools/vm/init.sh" "$t/init"
	install -m 755 "${VM_GUEST_SCRIPT:-$VM_ROOT/tests/vm/guest-test.sh}" "$t/kms/guest-test.sh"
	[[ -f $tracer ]] && install -m 755 "$tracer" "$t/kms/kmemscope"
	[[ -f $dir/module/kmemscope_test.ko ]] && cp "$dir/module/kmemscope_test.ko" "$t/kms/"
	(cd "$t" && find . | cpio -o -H newc --quiet) | gzip -1 > "$dir/initramfs.cpio.gz"
}

boot_qemu() {
	local accel=${VM_ACCEL:-tcg} cpu=max
	# one TCG thread: with thread=multi a vCPU now and then ran a stale copy of
	# code the kernel was patching (text_poke_bp) when tracepoints were
	# attached, and died on the int3 (seen on 6.12 in kmem_cache_free)
	[[ $accel == tcg ]] && accel=tcg,thread=single
	[[ $accel == kvm ]] && cpu=host   # -cpu max under KVM aborts here (MSR 0x10a)
	timeout --foreground -k 5 "$timeout_s" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" \
		-m 1G -smp 2 -nographic -no-reboot -kernel "$dir/vmlinuz" \
		-initrd "$dir/initramfs.cpio.gz" -append "console=ttyS0 panic=-1 quiet${VM_APPEND:+ $VM_APPEND}" \
		</dev/null >"$console" 2>&1
}

# virtme-ng boots the kernel with the host's root file system (needs 9p or
# virtiofs in the guest kernel) and runs the same guest script there.
boot_vng() {
	command -v vng >/dev/null || die "VM_RUNNER=vng but vng is not installed"
	local t=$dir/initramfs kvm=()
	[[ ${VM_ACCEL:-tcg} == kvm ]] || kvm=(--disable-kvm)
	timeout --foreground -k 5 "$timeout_s" vng --run "$dir/vmlinuz" "${kvm[@]}" --memory 1G --cpus 2 \
		${VM_APPEND:+--append "$VM_APPEND"} \
		--user root --exec \
		"mkdir -p /tmp/kms && cp -r $t/kms/. /tmp/kms/ && mount -t debugfs d /sys/kernel/debug 2>/dev/null; \
		 sed 's|/kms/|/tmp/kms/|g' $t/kms/guest-test.sh > /tmp/kms/g.sh; echo '@@KMS UNAME '\$(uname -r); \
		 sh /tmp/kms/g.sh; echo \"@@KMS EXIT rc=\$?\"" </dev/null >"$console" 2>&1
}

# Split the console log into results/<step>.out, .rc and .time (seconds).
extract() {
	rm -rf "$res"; mkdir -p "$res"
	tr -d '\r' < "$console" | awk -v d="$res" '
		/@@KMS /        { sub(/^.*@@KMS /, "@@KMS ") }   # drop terminal resets before markers
		/^@@KMS BEGIN / { name = $3; out = d "/" name ".out"; printf "" > out; next }
		/^@@KMS END /   { sub(/^rc=/, "", $4); print $4 > (d "/" $3 ".rc"); close(out); out = ""
		                  if (sub(/^cs=/, "", $5)) printf "%.2f\n", $5 / 100 > (d "/" $3 ".time"); next }
		/^@@KMS UNAME / { print $3 > (d "/uname") }
		/^@@KMS EXIT /  { sub(/^rc=/, "", $3); print $3 > (d "/exit") }
		out != ""       { print >> out }'
}

need qemu-system-x86_64 qemu-system-x86
need cpio cpio
[[ -x /bin/busybox ]] || need busybox busybox-static
log "$k: booting $rel"
make_initramfs
start=$SECONDS
rc=0
case ${VM_RUNNER:-qemu} in
qemu) boot_qemu || rc=$? ;;
vng)  boot_vng || rc=$? ;;
*)    die "VM_RUNNER must be qemu or vng" ;;
esac
extract
secs=$((SECONDS - start))
if [[ $rc == 124 || $rc == 137 ]]; then
	log "$k: guest timed out after ${timeout_s}s (console: $console)"; exit 1
fi
if [[ ! -f $res/exit ]]; then
	log "$k: guest died without reporting a status (console: $console)"
	tail -20 "$console" | tr -d '\r' | sed 's/^/    /' >&2
	exit 1
fi
log "$k: guest $(cat "$res/uname" 2>/dev/null || echo '?') ran in ${secs}s, exit $(cat "$res/exit")"
exit "$(cat "$res/exit")"
