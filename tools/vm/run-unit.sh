#!/usr/bin/env bash
# The shipped kmemscope-agent.service under a real systemd: boot a Debian
# cloud kernel (default 6.12) with a small Debian root of the host's suite as
# the initramfs and systemd as its init, `make install DESTDIR=… PREFIX=/usr`
# in it, and run tests/vm/unit-guest.sh as a oneshot service there; then judge
# with tests/vm/check_unit.py. This machine's own systemd is not PID 1 (and a
# container's rarely is), so a guest is the only real systemd the tests have.
# Usage: tools/vm/run-unit.sh [KERNEL]       (make vm-unit)
#   env: OUT (the build to install, default build), VM_TIMEOUT (s, default 600),
#        VM_CACHE (as for the other tools/vm scripts)
# The root (mmdebstrap: systemd, systemd-sysv, dbus, the agent's libraries,
# nothing else) is cached as build/vm/root-<suite> and its cpio as
# root-<suite>.cpio; results land in build/vm/<K>/unit/, the guest's console in
# build/vm/<K>/unit.console.log.
# Exit: check_unit.py's (0 passed, 1 a check failed or the guest died or hung).
set -euo pipefail
# shellcheck source=tools/vm/lib.sh
. "$(dirname "$0")/lib.sh"

(($# <= 1)) || usage "$0 [KERNEL]"
k=${1:-6.12}
[[ $(kernel_arch "$k") == amd64 ]] || die "$k: the unit test boots x86-64 kernels only"
dir=$(kdir_of "$k")
res=$dir/unit console=$dir/unit.console.log
out=${OUT:-build}
[[ $out == /* ]] || out=$VM_ROOT/$out
timeout_s=${VM_TIMEOUT:-600}
# shellcheck source=/dev/null
suite=$(. /etc/os-release && echo "${VERSION_CODENAME:-bookworm}")
# the agent's shared libraries (the same suite as the host build links against);
# dbus, the system bus systemd hosts run, through which kmemscope asks for
# its transient scope (user/session/sdscope.c)
pkgs=(systemd systemd-sysv dbus libbpf1 libelf1 zlib1g)

rm -rf "$res" "$console" "$dir/unit.initrd"
need qemu-system-x86_64 qemu-system-x86
need cpio cpio
"$VM_ROOT/tools/vm/fetch-kernel.sh" "$k" >&2 || die "$k: cannot fetch the kernel"
rel=$(release_of "$k")
root=$("$VM_ROOT/tools/vm/make-root.sh" "$suite" "${pkgs[@]}") || die "cannot make the $suite root"

# The root as an uncompressed cpio (nothing to inflate under TCG), made again
# when the root was.
base=$VM_CACHE/root-$suite.cpio
if [[ ! -s $base || $root/var/lib/dpkg/status -nt $base ]]; then
	log "root-$suite.cpio: packing $(du -sm "$root" | cut -f1) MB"
	(cd "$root" && find . -xdev | cpio -o -H newc --quiet) > "$base.new"
	mv "$base.new" "$base"
fi

# What this run adds: kmemscope installed as a package would install it (the
# unit beside the distribution's own, in merged /usr), its options, the test.
ov=$dir/unit.overlay
rm -rf "$ov"; mkdir -p "$ov"
make --no-print-directory -C "$VM_ROOT" OUT="$out" install DESTDIR="$ov" PREFIX=/usr \
	systemdunitdir=/usr/lib/systemd/system >&2
mkdir -p "$ov/kms" "$ov/etc/default" "$ov/var/lib/prometheus/node-exporter" \
	"$ov/etc/systemd/system/multi-user.target.wants"
install -m 755 "$VM_ROOT/tests/vm/unit-guest.sh" "$ov/kms/unit-guest.sh"
install -m 644 "$VM_ROOT/tests/vm/guest-lib.sh" "$ov/kms/guest-lib.sh"
cat > "$ov/etc/default/kmemscope-agent" <<-'EOF'
	KMEMSCOPE_AGENT_OPTS="--listen 127.0.0.1:19183 -i 2 --textfile /var/lib/prometheus/node-exporter/kmemscope.prom"
EOF
cat > "$ov/etc/systemd/system/kms-unit-test.service" <<-'EOF'
	[Unit]
	Description=kmemscope: the agent's unit under test
	After=multi-user.target
	[Service]
	Type=oneshot
	ExecStart=/kms/unit-guest.sh
	StandardOutput=tty
	StandardError=tty
	TTYPath=/dev/ttyS1
	[Install]
	WantedBy=multi-user.target
EOF
ln -s ../kms-unit-test.service "$ov/etc/systemd/system/multi-user.target.wants/kms-unit-test.service"
{ cat "$base"; (cd "$ov" && find . | cpio -o -H newc --quiet); } > "$dir/unit.initrd"

# Two serial ports: the console (kernel, systemd) and the test's markers.
log "$k: booting $rel with systemd as init"
start=$SECONDS rc=0
timeout --foreground -k 5 "$timeout_s" qemu-system-x86_64 -accel tcg,thread=single -cpu max \
	-m 2G -smp 2 -display none -monitor none -no-reboot -nic none \
	-serial "file:$console" -serial "file:$dir/unit.markers" \
	-kernel "$dir/vmlinuz" -initrd "$dir/unit.initrd" \
	-append "console=ttyS0 panic=-1 quiet rdinit=/lib/systemd/systemd systemd.show_status=0 systemd.mask=serial-getty@ttyS0.service systemd.mask=serial-getty@ttyS1.service" \
	</dev/null >/dev/null 2>&1 || rc=$?
rm -f "$dir/unit.initrd"
mkdir -p "$res"
tr -d '\r' < "$dir/unit.markers" | awk -v d="$res" '
	/@@KMS /        { sub(/^.*@@KMS /, "@@KMS ") }
	/^@@KMS BEGIN / { name = $3; out = d "/" name ".out"; printf "" > out; next }
	/^@@KMS END /   { sub(/^rc=/, "", $4); print $4 > (d "/" $3 ".rc"); close(out); out = ""
	                  if (sub(/^cs=/, "", $5)) printf "%.2f\n", $5 / 100 > (d "/" $3 ".time"); next }
	/^@@KMS EXIT /  { sub(/^rc=/, "", $3); print $3 > (d "/exit") }
	out != ""       { print >> out }'
secs=$((SECONDS - start))
if [[ $rc == 124 || $rc == 137 ]]; then
	log "$k: guest timed out after ${timeout_s}s (console: $console)"
elif [[ ! -f $res/exit ]]; then
	log "$k: guest ended without a status after ${secs}s (console: $console)"
	tail -20 "$console" | tr -d '\r' | sed 's/^/    /' >&2
else
	log "$k: guest ran in ${secs}s"
fi
exec python3 "$VM_ROOT/tests/vm/check_unit.py" "$res" --kernel "$k" --seconds "$secs"
