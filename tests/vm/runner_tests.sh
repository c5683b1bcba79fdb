#!/usr/bin/env bash
# The VM matrix's harness with its runner broken on purpose (no guest boots:
# seconds). A copy of tools/vm with stub fetch and module scripts runs
# vm-test.sh on a fake kernel whose results directory holds a previous run's
# passing results; stub qemu-system-x86_64 / vng / virtiofsd stand in for the
# runners. A runner that cannot start, dies or reports a failing guest must
# fail the kernel, and the stale results must never be read as passes.
# Usage: tests/vm/runner_tests.sh    Exit: 0 all passed, 1 a check failed.
set -uo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0 skipped=0

ok()   { echo "PASS runner:$1"; passed=$((passed + 1)); }
bad()  { echo "FAIL runner:$1 ($2)"; failed=$((failed + 1)); }

if [[ ! -x /bin/busybox ]]; then    # run-vm.sh builds an initramfs around it
	echo "SKIP runner: no /bin/busybox (tools/deps vm)"
	echo "0 passed, 0 failed, 1 skipped"; exit 4
fi

# The harness under test, with fetch and module build stubbed out.
root=$tmp/root
mkdir -p "$root/tools/vm" "$root/tests/vm" "$tmp/bin"
for f in lib.sh run-vm.sh vm-test.sh init.sh vng-init.sh; do ln -s "$src/tools/vm/$f" "$root/tools/vm/$f"; done
for f in check_results.py guest-test.sh guest-lib.sh; do ln -s "$src/tests/vm/$f" "$root/tests/vm/$f"; done
printf '#!/bin/sh\nexit 0\n' > "$root/tools/vm/fetch-kernel.sh"
# shellcheck disable=SC2016  # $1 is the stub's own argument
printf '#!/bin/sh\necho "stub: no module" > "%s/build/vm/$1/module.log"; exit 4\n' "$root" > "$root/tools/vm/build-module.sh"
chmod 755 "$root/tools/vm/fetch-kernel.sh" "$root/tools/vm/build-module.sh"
kdir=$root/build/vm/6.12
mkdir -p "$kdir"
echo 6.12.0-stub > "$kdir/release"
: > "$kdir/vmlinuz"

# A previous run that passed: what the old harness read after a failed boot.
stale() {
	rm -rf "$kdir/results"; mkdir -p "$kdir/results"
	echo 0 > "$kdir/results/exit"
	echo 6.12.0-stale > "$kdir/results/uname"
	printf '@@KMS UNAME 6.12.0-stale\n@@KMS EXIT rc=0\n' > "$kdir/console.log"
}

# stub NAME BODY: an executable in $tmp/bin (first in PATH).
stub() { printf '#!/bin/sh\n%s\n' "$2" > "$tmp/bin/$1"; chmod 755 "$tmp/bin/$1"; }

# matrix NAME WANT RUNNER [env...]: run vm-test.sh $spec (6.12) and judge it.
# WANT: pass (the good guest's 2 checks pass), fail (exit 1 with a guest.run
# or guest.exit FAIL, nothing passed), fail-ran (the same, but the guest ran:
# what it reported itself may pass). Never a stale value in the results.
spec=6.12
matrix() {
	local name=$1 want=$2 runner=$3 rc last; shift 3
	stale
	env PATH="$tmp/bin:$PATH" VM_ROOT="$root" VM_CACHE="$root/build/vm" \
		KMEMSCOPE="$tmp/no-tracer" VM_RUNNER="$runner" VM_TIMEOUT=20 VM_ORACLE= "$@" \
		"$root/tools/vm/vm-test.sh" "$spec" > "$tmp/out" 2>&1
	rc=$?
	last=$(tail -1 "$tmp/out")
	if grep -rqs stale "$kdir/results"; then
		false
	elif [[ $want == pass ]]; then
		[[ $rc == 0 && $last == "2 passed, 0 failed, 2 skipped" ]]
	else
		[[ $rc == 1 && $last =~ ^[0-9]+\ passed,\ [1-9][0-9]*\ failed ]] &&
			grep -qE '^FAIL [^ ]*:guest\.(run|exit) ' "$tmp/out" &&
			{ [[ $want == fail-ran ]] || ! grep -q '^PASS' "$tmp/out"; }
	fi || { bad "$name" "exit $rc, last line '$last'"; sed 's/^/    | /' "$tmp/out"; return; }
	ok "$name"
}

guest_ok='cat <<EOT
@@KMS UNAME 6.12.0-stub
@@KMS EXIT rc=0
EOT'

# qemu: a good guest passes (the control), then three broken runners
stub qemu-system-x86_64 "$guest_ok"
matrix qemu.good_guest pass qemu
stub qemu-system-x86_64 'exit 1'
matrix qemu.dies_at_once fail qemu
stub qemu-system-x86_64 'echo "@@KMS UNAME 6.12.0-stub"; echo "@@KMS EXIT rc=3"'
matrix qemu.guest_exit_3 fail-ran qemu
stub qemu-system-x86_64 'sleep 60'
matrix qemu.hangs fail qemu VM_TIMEOUT=1

# Progress on a terminal (script(1) gives one): booting, then tests done out
# of the last run's count, redrawn in place; none without a terminal (the
# control above: CI logs stay as they were).
if grep -q $'\e' "$tmp/out"; then
	bad progress.quiet_without_a_tty "escape sequences in a log"
else
	ok progress.quiet_without_a_tty
fi
if command -v script >/dev/null; then
	# shellcheck disable=SC2016  # the stub expands $s itself
	stub qemu-system-x86_64 'echo "@@KMS UNAME 6.12.0-stub"; sleep 1.5
for s in a b c; do echo "@@KMS BEGIN $s"; echo "@@KMS END $s rc=0 cs=1"; sleep 1.5; done
echo "@@KMS EXIT rc=0"'
	stale
	for s in a b c; do echo 0 > "$kdir/results/$s.rc"; done    # the last run: 3 steps
	env PATH="$tmp/bin:$PATH" VM_ROOT="$root" VM_CACHE="$root/build/vm" KMEMSCOPE="$tmp/no-tracer" \
		VM_RUNNER=qemu VM_TIMEOUT=20 VM_ORACLE= script -qec "$root/tools/vm/vm-test.sh $spec" \
		/dev/null > "$tmp/out" 2>&1
	rc=$?
	seen=$(tr -d '\r' < "$tmp/out" | grep -oE '6\.12: (booting|tests [0-9]/3)' | sort -u | tr '\n' ,)
	if [[ $seen == *booting* && $seen == *"tests "[12]/3* ]] && grep -q $'\e\[J' "$tmp/out" &&
		tr -d '\r' < "$tmp/out" | grep -qE '^(PASS|FAIL|SKIP|[0-9]+ passed)'; then
		ok progress.on_a_tty
	else
		bad progress.on_a_tty "exit $rc, states seen: $seen"; sed 's/^/    | /' "$tmp/out"
	fi
else
	echo "SKIP runner:progress.on_a_tty (no script(1))"; skipped=$((skipped + 1))
fi

# vng: missing, --version failing, a broken virtiofsd (vng would fall back to
# 9p, which cloud kernels lack), and a good one (the control; it must be run
# with busybox sh and tools/vm/vng-init.sh)
matrix vng.missing fail vng VM_VNG="$tmp/nowhere/vng"
stub vng 'exit 1'
matrix vng.version_fails fail vng VM_VNG="$tmp/bin/vng"
stub vng "[ \"\$1\" = --version ] && exit 0
case \"\$*\" in *'--exec /bin/busybox sh '*vng-init.sh*) ;; *) exit 1 ;; esac
$guest_ok"
stub virtiofsd 'exit 1'
matrix vng.virtiofsd_broken fail vng VM_VNG="$tmp/bin/vng"
stub virtiofsd 'echo virtiofsd 1.13'
matrix vng.good_guest pass vng VM_VNG="$tmp/bin/vng"
# a hung vng guest: vng's own children (virtme-run, qemu, virtiofsd) must go too
stub vng "[ \"\$1\" = --version ] && exit 0
sleep 300 & echo \$! > $tmp/child; wait"
matrix vng.hangs fail vng VM_VNG="$tmp/bin/vng" VM_TIMEOUT=1
# alive: neither gone nor a zombie awaiting its reaper, 2 s after the timeout
alive() { [[ -r /proc/$1/stat && $(cut -d' ' -f3 "/proc/$1/stat" 2>/dev/null) != Z ]]; }
child=$(cat "$tmp/child")
for _ in 1 2 3 4 5 6 7 8 9 10; do alive "$child" || break; sleep 0.2; done
if alive "$child"; then
	kill "$child"; bad vng.hang_leaves_no_child "vng's child outlived the timeout"
else
	ok vng.hang_leaves_no_child
fi
spec=6.12:vng    # the runner named per kernel, whatever VM_RUNNER says
matrix vng.per_kernel_runner fail qemu VM_VNG="$tmp/nowhere/vng"

echo "$passed passed, $failed failed, $skipped skipped"
((failed == 0))
