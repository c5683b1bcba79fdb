#!/usr/bin/env bash
# Fetch a Debian cloud kernel image and its headers into build/vm/<kernel>/.
# Usage: tools/vm/fetch-kernel.sh KERNEL...   (KERNEL: 5.10 6.1 6.12 sid arm64-6.1 arm64-6.12 arm64-sid)
# Package names are resolved at run time from the archive; nothing is pinned.
# A second run with the same current package downloads nothing.
set -euo pipefail
# shellcheck source=tools/vm/lib.sh
. "$(dirname "$0")/lib.sh"

# resolve_release KERNEL -> the current release string, e.g. 6.1.0-56-cloud-amd64
resolve_release() {
	local k=$1 cache=apt-cache pkg
	[[ $(kernel_apt "$k") == private ]] && cache=papt_cache
	case $k in
	6.1)  pkg=$($cache depends linux-image-cloud-amd64 2>/dev/null |
	            sed -n 's/^ *Depends: linux-image-\(6\.1\.[^ ]*-cloud-amd64\)$/\1/p' | head -1) ;;
	6.12) pkg=$($cache depends linux-image-6.12-cloud-amd64 2>/dev/null |
	            sed -n 's/^ *Depends: linux-image-\(6\.12\.[^ ]*-cloud-amd64\)$/\1/p' | head -1)
	      [[ -n $pkg ]] || pkg=$($cache search --names-only '^linux-image-6\.12\..*deb12-cloud-amd64$' |
	            sed -n 's/^linux-image-\([^ ]*\) .*/\1/p' | sort -V | tail -1) ;;
	5.10) pkg=$($cache search --names-only '^linux-image-5\.10\.0-[0-9]+-cloud-amd64$' |
	            sed -n 's/^linux-image-\([^ ]*\) .*/\1/p' | sort -V | tail -1) ;;
	sid)  pkg=$($cache depends linux-image-cloud-amd64 2>/dev/null |
	            sed -n 's/^ *Depends: linux-image-\([^ ]*-cloud-amd64\)$/\1/p' | sort -V | tail -1) ;;
	# arm64: the same metapackages for arm64, through the private configuration
	arm64-6.1) pkg=$($cache search --names-only '^linux-image-6\.1\.0-[0-9]+-cloud-arm64$' |
	            sed -n 's/^linux-image-\([^ ]*\) .*/\1/p' | sort -V | tail -1) ;;
	arm64-6.12) pkg=$($cache depends linux-image-6.12-cloud-arm64:arm64 2>/dev/null |
	            sed -n 's/^ *Depends: linux-image-\(6\.12\.[^ ]*-cloud-arm64\):arm64$/\1/p' | head -1) ;;
	arm64-sid) pkg=$($cache depends linux-image-cloud-arm64:arm64 2>/dev/null |
	            sed -n 's/^ *Depends: linux-image-\([^ ]*-cloud-arm64\):arm64$/\1/p' | sort -V | tail -1) ;;
	esac
	echo "$pkg"
}

# deb_of PKG[:arm64]: the newest cached .deb of PKG (empty if none). A name
# with :arm64 is that architecture's (or an Architecture: all package's); a
# plain one is the host's: linux-kbuild-* exists for both under one name.
deb_of() {
	local p=${1%:arm64} pat=_amd64.deb
	[[ $1 == *:arm64 ]] && pat=_arm64.deb
	compgen -G "$VM_DEBS/${p}_*.deb" | grep -E -- "(${pat//./\\.}|_all\.deb)\$" | sort -V | tail -1 || true
}

# download PKG... into the deb cache with the kernel's apt configuration.
download() {
	local k=$1; shift
	local get=(apt-get -q -o APT::Sandbox::User=root download)
	[[ $(kernel_apt "$k") == private ]] && get=(papt_get -o APT::Sandbox::User=root download)
	local p missing=()
	for p in "$@"; do
		[[ -n $(deb_of "$p") ]] || missing+=("$p")
	done
	((${#missing[@]})) || return 0
	log "$k: downloading ${missing[*]}"
	(cd "$VM_DEBS" && "${get[@]}" "${missing[@]}" >/dev/null) || die "$k: apt-get download ${missing[*]} failed"
}

# extra_deps KERNEL RELEASE -> packages the image and headers split out: the
# -common headers, linux-kbuild (scripts, fixdep, modpost) and, from 7.x,
# linux-binary-<release> (which then holds /boot/vmlinuz).
extra_deps() {
	local cache=apt-cache
	[[ $(kernel_arch "$1") == arm64 ]] && { extra_deps_arm64 "$2"; return; }
	[[ $(kernel_apt "$1") == private ]] && cache=papt_cache
	$cache depends "linux-headers-$2" "linux-image-$2" 2>/dev/null |
		sed -n 's/^ *Depends: \(linux-headers-[^ ]*-common[^ ]*\|linux-kbuild-[^ ]*\|linux-binary-[^ ]*\|linux-modules-[^ ]*\)$/\1/p' | sort -u
}

# The same for an arm64 kernel, whose headers are used from this x86-64 host:
# the -common headers (Architecture: all), the host's linux-kbuild of the same
# version (fixdep, modpost: programs that run here and handle arm64 objects),
# the arm64 linux-binary/-modules. apt shows an all package asked for as
# :arm64 as <virtual>.
extra_deps_arm64() {
	papt_cache depends "linux-headers-$1:arm64" "linux-image-$1:arm64" 2>/dev/null |
		sed -n 's/^ *Depends: <\{0,1\}\(linux-[a-z]*-[^ >]*\)>\{0,1\}$/\1/p' | sort -u |
		while read -r p; do
			case ${p%:arm64} in
			linux-headers-*-common*) echo "${p%:arm64}" ;;
			linux-kbuild-*) echo "${p%:arm64}" ;;
			linux-binary-*|linux-modules-*) echo "$p" ;;
			esac
		done
}

# Point the extracted headers' absolute /usr/src and /usr/lib paths into the cache.
fix_headers() {
	local root=$1 f
	for f in "$root"/usr/src/linux-headers-*/{Makefile,scripts,tools} "$root"/usr/src/linux-headers-*/*/Makefile; do
		if [[ -L $f ]]; then
			local t; t=$(readlink "$f")
			[[ $t == /* ]] && ln -sfn "$root$t" "$f"
		elif [[ -f $f ]]; then
			sed -i "s|\([ (=]\)/usr/src/linux-headers-|\1$root/usr/src/linux-headers-|g" "$f"
		fi
	done
	true
}

# The modules virtme-ng needs to boot the kernel with the host's root file
# system over virtiofs (built in from 6.12; modules on 5.10 and 6.1, where
# fuse and virtiofs are modules) and to put its writable overlays on /etc,
# /tmp, ... (overlay is a module everywhere), with what they depend on.
VNG_MODULES="virtiofs overlay virtio_pci virtio_console virtio_mmio 9pnet_virtio 9p"

# keep_vng_modules DIR REL ROOT: copy VNG_MODULES and their dependencies from
# the packages extracted in ROOT to DIR/lib/modules/REL (where vng looks: a
# lib/modules above the image) and index them with depmod. Everything else
# of the stock modules is dropped: the guest needs no more.
keep_vng_modules() {
	local dir=$1 rel=$2 root=$3 m f dst=$1/lib/modules/$2
	[[ -d $root/lib/modules/$rel ]] || { mkdir -p "$root/lib"; ln -sfn ../usr/lib/modules "$root/lib/modules"; }
	[[ -d $root/lib/modules/$rel/kernel ]] || die "$k: the image package has no modules for $rel"
	depmod -b "$root" "$rel" 2>/dev/null || die "$k: depmod of the stock modules failed"
	rm -rf "${dir:?}/lib"; mkdir -p "$dst"
	cp "$root/lib/modules/$rel"/modules.{order,builtin} "$dst/" 2>/dev/null || true
	for m in $VNG_MODULES; do
		# a module this kernel lacks (9p on cloud kernels) or has built in: nothing
		{ modprobe -d "$root" -S "$rel" --show-depends "$m" 2>/dev/null || true; } |
			sed -n 's/^insmod \([^ ]*\) *$/\1/p'
	done | sort -u | while read -r f; do
		f=${f#*/modules/"$rel"/}
		mkdir -p "$dst/$(dirname "$f")"
		cp "$root/lib/modules/$rel/$f" "$dst/$f"
	done
	depmod -b "$dir" "$rel" 2>/dev/null || die "$k: depmod of the kept modules failed"
	log "$k: kept $(find "$dst" -name '*.ko*' | wc -l) modules for vng in $dst"
}

fetch_one() {
	local k=$1 dir rel
	dir=$(kdir_of "$k")
	[[ $(kernel_apt "$k") == private ]] && papt_init
	rel=$(resolve_release "$k")
	if [[ -z $rel ]]; then
		[[ $(kernel_apt "$k") == host ]] && { log "updating apt lists"; apt-get update -qq >/dev/null || true; rel=$(resolve_release "$k"); }
		[[ -n $rel ]] || die "$k: no cloud kernel package found in the archive"
	fi
	# (a cache from before the modules vng needs were kept is fetched again)
	if [[ -f $dir/release && $(cat "$dir/release") == "$rel" && -f $dir/vmlinuz && -d $dir/kdir/ &&
	      -f $dir/lib/modules/$rel/modules.dep ]]; then
		log "$k: $rel (cached)"; return 0
	fi
	local a=''
	[[ $(kernel_arch "$k") == arm64 ]] && a=:arm64
	local pkgs=("linux-image-$rel$a" "linux-headers-$rel$a")
	mapfile -t -O 2 pkgs < <(extra_deps "$k" "$rel")
	download "$k" "${pkgs[@]}"
	rm -rf "$dir"; mkdir -p "$dir/root"
	local p
	for p in "${pkgs[@]}"; do
		dpkg-deb -x "$(deb_of "$p")" "$dir/root"
	done
	local img  # /boot/vmlinuz-<rel> up to 6.x; /usr/lib/modules/<rel>/vmlinuz in 7.x packages
	for img in "$dir/root/boot/vmlinuz-$rel" "$dir/root/usr/lib/modules/$rel/vmlinuz" ""; do
		[[ -f $img ]] && { mv "$img" "$dir/vmlinuz"; break; }
	done
	keep_vng_modules "$dir" "$rel" "$dir/root"
	rm -rf "$dir/root/lib/modules" "$dir/root/usr/lib/modules"   # the rest: the guest needs none
	fix_headers "$dir/root"
	ln -sfn "root/usr/src/linux-headers-$rel" "$dir/kdir"
	[[ -f $dir/vmlinuz && -f $dir/kdir/Makefile ]] || die "$k: extracted packages lack vmlinuz or headers"
	echo "$rel" > "$dir/release"
	log "$k: $rel"
}

(($#)) || usage "$0 KERNEL... (one of: $VM_KERNELS_ALL)"
for k in "$@"; do kernel_apt "$k" >/dev/null; done
need dpkg-deb dpkg
need depmod kmod
mkdir -p "$VM_DEBS"
for k in "$@"; do fetch_one "$k"; done
