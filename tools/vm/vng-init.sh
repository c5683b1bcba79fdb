#!/bin/busybox sh
# shellcheck shell=dash
# Guest side under virtme-ng (VM_RUNNER=vng): what init.sh does for the
# initramfs guest, on top of virtme-ng's own init. That guest runs on the
# host's root file system (virtiofs), read-only where the kernel lacks the
# overlay module, and its sh is the host's (dash on Debian): so a tmpfs on
# /tmp, and busybox's applets first in PATH, as in the initramfs guest.
# Usage (run-vm.sh passes it to vng --exec): busybox sh vng-init.sh DIR
#   DIR: the initramfs tree run-vm.sh made on the host (its kms/ is copied)
src=$1
# first into /run (virtme's tmpfs): DIR may lie under /tmp (a checkout in
# /tmp), which the tmpfs below hides
stage=/run/kms-stage
/bin/busybox mkdir -p "$stage" && /bin/busybox cp -r "$src/kms/." "$stage/" ||
	{ echo "vng-init: cannot copy $src/kms"; exit 1; }
/bin/busybox mount -t tmpfs tmpfs /tmp || { echo "vng-init: cannot mount a tmpfs on /tmp"; exit 1; }
/bin/busybox mkdir -p /tmp/bin /tmp/kms
/bin/busybox --install -s /tmp/bin
export PATH=/tmp/bin:/tmp/kms:$PATH
cp -r "$stage/." /tmp/kms/
sed 's|/kms/|/tmp/kms/|g' "$stage/guest-test.sh" > /tmp/kms/guest-test.sh
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
grep -q ' /sys/fs/cgroup cgroup2 ' /proc/mounts || mount -t cgroup2 cgroup2 /sys/fs/cgroup
# the kernel's messages stay on its console (vng.log): markers go on stdout
echo; echo "@@KMS UNAME $(uname -r)"
# KMS_RUNNER: guest-test.sh leaves out the RSS steps here (their million
# traced kmallocs and 128 MiB of rings do not fit 1G beside virtme's init)
KMS_RUNNER=vng sh /tmp/kms/guest-test.sh
echo "@@KMS EXIT rc=$?"
