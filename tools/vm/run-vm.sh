#!/usr/bin/env bash
# Boot a fetched kernel with a busybox initramfs, run tests/vm/guest-test.sh
# in it and copy each step's output to build/vm/<kernel>/results/.
# Usage: tools/vm/run-vm.sh KERNEL
#   env: VM_TIMEOUT (s, default 600, 1200 under vng and for arm64), VM_RUNNER (qemu | vng), VM_ACCEL (tcg | kvm),
#        KMEMSCOPE (tracer binary, default build/kmemscope.static; absent: no tracer steps),
#        KMEMSCOPE_ARM64 (the same for arm64-* kernels, default build/arm64/kmemscope.static),
#        VM_GUEST_SCRIPT (the guest script, default tests/vm/guest-test.sh),
#        VM_APPEND (more kernel command line, e.g. slub_debug=U),
#        VM_RESULTS (results directory name under build/vm/<kernel>, default results;
#        another name also gets its own console and vng logs, <name>.console.log),
#        VM_VNG (the vng to run; default build/vm/vng/bin/vng from fetch-vng.sh, else PATH's)
# Exit: the guest's status; 1 when the guest died, hung, printed no status or
# could not be started. Results are per run: the previous run's are deleted
# first, so a guest that did not run leaves none to read.
set -euo pipefail
# shellcheck source=tools/vm/lib.sh
. "$(dirname "$0")/lib.sh"

(($# == 1)) || usage "$0 KERNEL"
k=$1
dir=$(kdir_of "$k")
res=$dir/${VM_RESULTS:-results}
console=$dir/console.log vnglog=$dir/vng.log
[[ ${VM_RESULTS:-results} == results ]] || console=$dir/$VM_RESULTS.console.log vnglog=$dir/$VM_RESULTS.vng.log
rm -rf "$res" "$console" "$vnglog"
rel=$(release_of "$k")
arch=$(kernel_arch "$k")
timeout_s=${VM_TIMEOUT:-600}
# a vng guest takes about 1.5 times as long (virtme's init, files over
# virtiofs); an arm64 one (one-thread TCG) 2 to 3 times: 300 s alone here,
# 531 to 650 s beside other guests on a loaded host
[[ -z ${VM_TIMEOUT:-} && ( ${VM_RUNNER:-qemu} == vng || $arch == arm64 ) ]] && timeout_s=1200
tracer=${KMEMSCOPE:-$VM_ROOT/build/kmemscope.static}
[[ $arch == arm64 ]] && tracer=${KMEMSCOPE_ARM64:-$VM_ROOT/build/arm64/kmemscope.static}

# The guest's busybox: the host's for x86-64; for arm64, busybox-static:arm64
# from bookworm through the private apt configuration, unpacked once.
guest_busybox() {
	local bb=$VM_CACHE/busybox-arm64/bin/busybox deb
	[[ $arch == arm64 ]] || { echo /bin/busybox; return; }
	if [[ ! -x $bb ]]; then
		papt_init
		mkdir -p "$VM_DEBS"
		(cd "$VM_DEBS" && papt_get -o APT::Sandbox::User=root download busybox-static:arm64/bookworm >/dev/null) ||
			die "cannot download busybox-static:arm64"
		deb=$(compgen -G "$VM_DEBS/busybox-static_*_arm64.deb" | sort -V | tail -1)
		rm -rf "$VM_CACHE/busybox-arm64"
		dpkg-deb -x "$deb" "$VM_CACHE/busybox-arm64"
	fi
	echo "$bb"
}

# Build the initramfs: busybox, /init, the guest script, tracer and module.
make_initramfs() {
	local t=$dir/initramfs
	rm -rf "$t"; mkdir -p "$t"/{bin,sbin,kms,etc}
	cp "$(guest_busybox)" "$t/bin/busybox"
	file -L "$t/bin/busybox" 2>/dev/null | grep -q 'statically linked' ||
		ldd "$t/bin/busybox" 2>&1 | grep -q 'not a dynamic' || die "/bin/busybox is not static (install busybox-static)"
	install -m 755 "$VM_ROOT/tools/vm/init.sh" "$t/init"
	install -m 755 "${VM_GUEST_SCRIPT:-$VM_ROOT/tests/vm/guest-test.sh}" "$t/kms/guest-test.sh"
	install -m 644 "$VM_ROOT/tests/vm/guest-lib.sh" "$t/kms/guest-lib.sh"
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
	[[ $arch == arm64 ]] && { boot_qemu_arm64; return; }
	timeout --foreground -k 5 "$timeout_s" qemu-system-x86_64 -accel "$accel" -cpu "$cpu" \
		-m 1G -smp 2 -nographic -no-reboot -kernel "$dir/vmlinuz" \
		-initrd "$dir/initramfs.cpio.gz" -append "console=ttyS0 panic=-1 quiet${VM_APPEND:+ $VM_APPEND}" \
		</dev/null >"$console" 2>&1
}

# arm64 under TCG: QEMU's virt board, no firmware (the Image boots directly),
# -cpu max with pointer authentication on (pauth-impdef: QEMU's cheap
# algorithm instead of QARMA, same PAC bits in return addresses), -nic none
# (the default NIC wants a ROM file Debian's qemu-system-arm lacks).
# cma=0: Debian's arm64 kernels reserve 64 MiB of CMA, which serves
# dma_alloc_coherent() of more than a page without an mm_page_alloc event
# (frees do fire mm_page_free); x86's cloud kernels have no CMA. Without it
# both take the same path, and the module's DMA checks mean the same.
boot_qemu_arm64() {
	timeout --foreground -k 5 "$timeout_s" qemu-system-aarch64 -M virt -accel tcg,thread=single \
		-cpu max,pauth-impdef=on -m 1G -smp 2 -nographic -no-reboot -nic none -kernel "$dir/vmlinuz" \
		-initrd "$dir/initramfs.cpio.gz" \
		-append "console=ttyAMA0 panic=-1 quiet cma=0${VM_APPEND:+ $VM_APPEND}" \
		</dev/null >"$console" 2>&1
}

# find_vng: the vng to run, checked with --version, and the virtiofsd it will
# pick (a vng beside it, then PATH, then Debian's path), checked the same way:
# without one vng falls back to 9p, which Debian's cloud kernels lack, and
# the guest dies with "cannot open root device". Either missing: one line, exit 1.
find_vng() {
	local vng=${VM_VNG:-} vfs p
	if [[ -z $vng ]]; then
		vng=$VM_CACHE/vng/bin/vng
		[[ -x $vng ]] || vng=$(command -v vng) ||
			die "VM_RUNNER=vng but vng is not installed (tools/deps vm, or tools/vm/fetch-vng.sh)"
	fi
	[[ -x $vng ]] || die "VM_RUNNER=vng but $vng is not an executable"
	"$vng" --version >/dev/null 2>&1 || die "VM_RUNNER=vng but $vng --version fails"
	for p in "$(dirname "$vng")/virtiofsd" "$(command -v virtiofsd)" /usr/libexec/virtiofsd \
		 /usr/lib/virtiofsd /usr/lib/qemu/virtiofsd ""; do
		[[ -n $p && -x $p ]] && { vfs=$p; break; }
	done
	[[ -n ${vfs:-} ]] || die "VM_RUNNER=vng but no virtiofsd (tools/deps vm, or tools/vm/fetch-vng.sh)"
	"$vfs" --version >/dev/null 2>&1 || die "VM_RUNNER=vng but $vfs --version fails"
	echo "$vng"
}

# virtme-ng boots the kernel with the host's root file system over virtiofs
# (the modules it needs are kept by fetch-kernel.sh in <K>/lib/modules) and
# runs tools/vm/vng-init.sh under busybox, which runs the same guest script.
# The guest's stdout is the console log; vng's messages and the kernel's go to vng.log.
boot_vng() {
	local vng kvm=()
	vng=$(find_vng) || exit 1
	[[ ${VM_ACCEL:-tcg} == kvm ]] || kvm=(--disable-kvm)
	# not --foreground: timeout then signals its whole process group, so a hung
	# guest's virtme-run, qemu and virtiofsd (vng's children) die with vng
	# 1G as under qemu: module.over_commit.enomem needs its 1 GiB to fail (with
	# 2G it does not). Open: with 1G the 6.12 guest dies in rss_churn under vng.
	# --verbose: the kernel's log goes to vng.log (the guest died: read it there)
	timeout -k 5 "$timeout_s" "$vng" --run "$dir/vmlinuz" "${kvm[@]}" --memory 1G --cpus 2 --verbose \
		${VM_APPEND:+--append "$VM_APPEND"} \
		--user root --exec "/bin/busybox sh $(printf %q "$VM_ROOT/tools/vm/vng-init.sh") $(printf %q "$dir/initramfs")" \
		</dev/null >"$console" 2>"$vnglog"
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

if [[ $arch == arm64 ]]; then
	need qemu-system-aarch64 qemu-system-arm
	[[ ${VM_RUNNER:-qemu} == qemu ]] || die "$k: arm64 guests run under plain QEMU only (VM_RUNNER=qemu)"
else
	need qemu-system-x86_64 qemu-system-x86
fi
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
	{ tail -20 "$console"; [[ -f $vnglog ]] && tail -20 "$vnglog"; } | tr -d '\r' | sed 's/^/    /' >&2
	exit 1
fi
log "$k: guest $(cat "$res/uname" 2>/dev/null || echo '?') ran in ${secs}s, exit $(cat "$res/exit")"
exit "$(cat "$res/exit")"
