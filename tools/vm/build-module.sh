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
arch=$(kernel_arch "$k")
# arm64 kernels: Debian's arm64 headers with the host's kbuild programs
# (fetch-kernel.sh) and the arm64 cross compiler of the kernel's gcc major
cross=''
[[ $arch == arm64 ]] && cross=aarch64-linux-gnu-

# The compiler the kernel was built with, from its headers (gcc-12, gcc-10, ...).
kernel_cc() {
	sed -n 's/^CC = .*\(gcc-[0-9][0-9]*\).*$/\1/p' "$kdir/.kernelvariables" 2>/dev/null | head -1
}

# suite_of KERNEL -> the Debian suite of a kernel from the private apt
# configuration (empty for the host's own suite).
suite_of() {
	case $1 in 5.10) echo bullseye ;; sid|arm64-sid) echo sid ;; esac
}

# cc_pkg COMPILER -> the Debian package holding it (gcc-12, gcc-12-aarch64-linux-gnu)
cc_pkg() {
	case $1 in
	aarch64-linux-gnu-gcc-*) echo "gcc-${1#aarch64-linux-gnu-gcc-}-aarch64-linux-gnu" ;;
	*) echo "$1" ;;
	esac
}

host_glibc() { dpkg-query -W -f='${Version}' libc6 | sed 's/-.*//'; }

# cc_glibc WANT SUITE -> the newest "libc6 (>= V)" that WANT's compiler
# packages in SUITE depend on (newer gcc packages moved the compiler proper
# into gcc-N-<triplet> and cpp-N-<triplet>; show skips names that do not exist).
cc_glibc() {
	local v=${1#gcc-}
	papt_cache show "$1/$2" "cpp-$v/$2" "gcc-$v-x86-64-linux-gnu/$2" "cpp-$v-x86-64-linux-gnu/$2" 2>/dev/null |
		sed -n 's/^Depends: //p' | tr ',' '\n' | sed -n 's/^ *libc6 (>= \([^)]*\)).*/\1/p' | sort -V | tail -1
}

# private_cc WANT: fetch gcc-N from the kernel's own suite (private apt
# configuration) and unpack it under build/vm/cc/; gcc finds its cc1 and
# headers relative to its own path. Prints the compiler path, or nothing.
private_cc() {
	local want=$1 ver=${1#gcc-} suite dest=$VM_CACHE/cc/$1 glibc
	suite=$(suite_of "$k"); [[ -n $suite ]] || return 0
	[[ -e $dest.unusable ]] && return 0
	if [[ ! -x $dest/usr/bin/$want ]]; then
		papt_init
		glibc=$(cc_glibc "$want" "$suite")
		if [[ -n $glibc ]] && ! dpkg --compare-versions "$(host_glibc)" ge "$glibc"; then
			mkdir -p "${dest%/*}"
			log "$k: $want from $suite needs glibc $glibc, the host has $(host_glibc)" 2>&1 |
				tee "$dest.unusable" >&2
			return 0
		fi
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
	local want=$1 pkg
	pkg=$(cc_pkg "$want")
	command -v "$want" >/dev/null && { echo "$want"; return; }
	if apt-cache policy "$pkg" 2>/dev/null | grep -q 'Candidate: [0-9]'; then
		log "$k: installing $pkg"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null 2>&1 &&
			{ echo "$want"; return; }
	fi
	# a cross compiler is not unpacked beside the host's: a root of its suite, below
	[[ -n $cross ]] || private_cc "$want"
}

# kbuild_deps: what the kernel's linux-kbuild package (objtool, modpost,
# resolve_btfids; pahole for module BTF) needs to run, from its Depends in
# the kernel's suite (first alternatives, names only).
kbuild_deps() {
	local kb
	kb=$(cd "$dir/root/usr/lib" 2>/dev/null && compgen -G 'linux-kbuild-*' | head -1) || return 0
	papt_cache show "$kb/$1" 2>/dev/null | sed -n 's/^Depends: //p' | head -1 |
		tr ',' '\n' | sed 's/|.*//; s/(.*//; s/:any//; s/ //g' | grep . || true
}

# suite_root WANT: for a compiler that cannot run on the host, a minimal root
# of the kernel's suite with WANT, make, libc6-dev and kbuild's needs, made
# once and cached by make-root.sh. Prints its path, or nothing.
suite_root() {
	local suite native=${1#"$cross"} extra=()
	suite=$(suite_of "$k"); [[ -n $suite ]] || return 0
	papt_init
	# a cross compiler's root also holds the native one (HOSTCC): the same
	# packages as the x86 kernel's root and more, so both reuse one root
	[[ -n $cross ]] && extra=("$(cc_pkg "$1")")
	# shellcheck disable=SC2046  # one package name a line
	"$VM_ROOT/tools/vm/make-root.sh" "$suite" "$native" "${extra[@]}" make libc6-dev $(kbuild_deps "$suite") || true
}

# kbuild ROOT MAKE-ARGS...: make on the host (ROOT empty) or chrooted into
# ROOT, with the kernel's cache directory bound at the same path: the headers'
# Makefiles and the module directory are named by absolute paths under it.
# The mounts live in a private namespace and vanish with it.
kbuild() {
	local r=$1; shift
	[[ -n $r ]] || { make "$@"; return; }
	mkdir -p "$r$dir"
	# shellcheck disable=SC2016  # expanded by the inner shell
	unshare --mount -- sh -ec 'r=$1 d=$2; shift 2
		mount --bind "$d" "$r$d"; mount -t proc proc "$r/proc"
		exec chroot "$r" make "$@"' sh "$r" "$dir" "$@"
}

need make make
need gcc gcc
need pahole dwarves   # module BTF, for kernels whose headers carry vmlinux
want=$(kernel_cc); want=$cross${want:-gcc-12}
cc=$(find_cc "$want") root='' hostcc=gcc how=''
if [[ -z $cc ]]; then
	root=$(suite_root "$want")
	if [[ -n $root ]]; then
		cc=$want hostcc=${want#"$cross"} how=" in $(basename "$root")"
	else
		log "$k: kernel built with $want, which cannot be had here; trying ${cross}gcc-12"
		cc=${cross}gcc-12
	fi
fi
archargs=()
[[ -n $cross ]] && archargs=(ARCH="$arch" CROSS_COMPILE="$cross")
rm -rf "$out"; mkdir -p "$out"
cp "$VM_ROOT"/tests/module/{kmemscope_test.c,Kbuild} "$out/"
# 6.1+ Makefiles honour this; older ones ignore it. It skips a check that
# compares our compiler with the one in the kernel's config.
if kbuild "$root" -C "$kdir" M="$out" "${archargs[@]}" CC="$cc" HOSTCC="$hostcc" DEBIAN_KERNEL_NO_CC_VERSION_CHECK=y \
	KERNELRELEASE="$rel" modules >"$log" 2>&1 && [[ -f $out/kmemscope_test.ko ]]; then
	log "$k: module built with $cc$how ($rel)"
	echo "$(basename "$cc")$how" > "$out/compiler"
	exit 0
fi
log "$k: module does NOT build with $cc$how (kernel wants $want); user-space tests only. First errors ($log):"
{ grep -m3 -E 'error|Error [0-9]' "$log" || tail -3 "$log"; } | sed 's/^/    /' >&2
exit 4
