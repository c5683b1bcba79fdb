#!/bin/busybox sh
# shellcheck shell=dash
# Guest /init: set up the minimal system, run the test script, report its exit
# status on the console (@@KMS EXIT rc=N) and power off.
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/kms
mkdir -p /proc /sys /dev /tmp /run
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev 2>/dev/null
mount -t debugfs debugfs /sys/kernel/debug
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null   # leaks/check isolate COMMAND in a cgroup
mount -t tmpfs tmpfs /tmp
echo 1 > /proc/sys/kernel/printk        # keep kernel messages off our markers
echo; echo "@@KMS UNAME $(uname -r)"
sh /kms/guest-test.sh
echo "@@KMS EXIT rc=$?"
poweroff -f
