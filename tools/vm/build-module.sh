#!/usr/bin/env bash
# Build tests/module against a fetched kernel's headers.
# Usage: tools/vm/build-module.sh KERNEL
# Output: build/vm/<kernel>/module/kmemscope_test.ko, log in build/vm/<kernel>/module.log.
# Exit 0 built, 4 cannot be built for this kernel (reason on stderr), 1 error.
set -euo pipefail
# shellcheck source=tools/vm/lib.sh
. "$(dirname "$0")/lib.sh"

(($# == 1)) || usage "$0 KERNEL"
k=$1
dir=$(kdir_of "$k")
rel=$(release_of "$k")
kdir=$(cd "$dir/kdir" && pwd)
out=$dir/module
log=$dir/module.log

# The compiler the kernel was built with, from its headers (gcc-12, gcc-10, ...).
kernel_cc() {
	sed -n 's/^CC = .*\(gcc-[0-9][0-9]*\).*$/\1/p' "$kdir/.kernelvariables" 2>/dev/null | head -1
}

# private_cc WANT: fetch gcc-N from the kernel's own suite (private apt
# configuration) and unpack it under build/vm/cc/; gcc finds its cc1 and
# headers relative to its own path. Prints the compiler path, or nothing.
private_cc() {
	local want=$1 ver=${1#gcc-} suite dest=$VM_CACHE/cc/$1
	case $k in 5.10) suite=bullseye ;; sid) suite=sid ;; *) return 0 ;; esac
	[[ -e $dest.unusable ]] && return 0
	if [[ ! -x $dest/usr/bin/$want ]]; then
		papt_init
		log "$k: fetching $want from $suite"
		local p pkgs=("$want" "cpp-$ver" "gcc-$ver-base" "libgcc-$ver-dev")
		(cd "$VM_DEBS" && papt_get -o APT::Sandbox::User=root download "${pkgs[@]/%//$suite}" >/dev/null 2>&1) || true
		rm -rf "$dest"; mkdir -p "$dest"
		for p in "${pkgs[@]}"; do
			compgen -G "$VM_DEBS/${p}_*.deb" >/dev/null && dpkg-deb -x "$(compgen -G "$VM_DEBS/${p}_*.deb" | sort -V | tail -1)" "$dest"
		done
	fi
	if echo 'int x;' | "$dest/usr/bin/$want" -x c -c -o /dev/null - 2>/dev/null; then
		echo "$dest/usr/bin/$want"
	else
		log "$k: $want from $suite does not run on this system"
		rm -rf "$dest"; touch "$dest.unusable"
	fi
}

# find_cc WANT -> a command for that gcc: installed, installable from the
# system's archive, or unpacked from the kernel's suite. Empty if none.
find_cc() {
	local want=$1
	command -v "$want" >/dev/null && { echo "$want"; return; }
	if apt-cache policy "$want" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
		log "$k: installing $want"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$want" >/dev/null 2>&1 &&
			{ echo "$want"; return; }
	fi
	private_cc "$want"
}

need make make
need gcc gcc
need pahole dwarves   # module BTF, for kernels whose headers carry vmlinux
want=$(kernel_cc); want=${want:-gcc-12}
cc=$(find_cc "$want")
if [[ -z $cc ]]; then
	log "$k: kernel built with $want, which cannot be had here; trying gcc-12"
	cc=gcc-12
fi
rm -rf "$out"; mkdir -p "$out"
cp "$VM_ROOT"/tests/module/{kmemscope_test.c,Kbuild} "$out/"
# 6.1+ Makefiles honour this; older ones ignore it. It skips a check that
# compares our compiler with the one in the kernel's config.
if make -C "$kdir" M="$out" CC="$cc" HOSTCC=gcc DEBIAN_KERNEL_NO_CC_VERSION_CHECK=y \
	KERNELRELEASE="$rel" modules >"$log" 2>&1 && [[ -f $out/kmemscope_test.ko ]]; then
	log "$k: module built with $cc ($rel)"
	basename "$cc" > "$out/compiler"
	exit 0
fi
log "$k: module does NOT build with $cc (kernel wants $want); user-space tests only. First errors ($log):"
{ grep -m3 -E 'error|Error [0-9]' "$log" || tail -3 "$log"; } | sed 's/^/    /' >&2
exit 4
