# shellcheck shell=bash
# Shared helpers for the tools/vm scripts. Source it; do not run it.

VM_ROOT=${VM_ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
VM_CACHE=${VM_CACHE:-$VM_ROOT/build/vm}
VM_APT=$VM_CACHE/apt          # private apt configuration (bookworm, bullseye, trixie, sid; amd64, arm64)
# shellcheck disable=SC2034  # used by the scripts that source this file
VM_DEBS=$VM_CACHE/debs        # downloaded .deb files, kept between runs
VM_KERNELS_ALL="5.10 6.1 6.12 sid arm64-6.1 arm64-6.12 arm64-sid"

die()  { echo "vm: error: $*" >&2; exit 1; }
log()  { echo "vm: $*" >&2; }
usage() { echo "usage: $*" >&2; exit 2; }

# need CMD PACKAGE: install PACKAGE with apt when CMD is missing.
need() {
	command -v "$1" >/dev/null 2>&1 && return 0
	log "installing $2 (for $1)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null ||
		die "cannot install $2 (needed for $1)"
}

# apt with the private sources; used for suites other than the host's own.
# Its own package caches: Docker-style images set Dir::Cache::pkgcache "", which
# makes every call re-read all three suites' lists (5 s each instead of 0.2).
papt_opts() {
	echo "-o Dir::Etc::sourcelist=/dev/null -o Dir::Etc::sourceparts=$VM_APT/sources" \
	     "-o Dir::State::Lists=$VM_APT/lists -o Dir::Cache=$VM_APT/cache" \
	     "-o Dir::Cache::pkgcache=$VM_APT/cache/pkgcache.bin" \
	     "-o Dir::Cache::srcpkgcache=$VM_APT/cache/srcpkgcache.bin" \
	     "-o Dir::State::status=$VM_APT/status -o Debug::NoLocking=1" \
	     "-o APT::Get::List-Cleanup=0 -o Acquire::Languages=none" \
	     "-o APT::Architectures::=amd64 -o APT::Architectures::=arm64"
}
# shellcheck disable=SC2046
papt_cache() { apt-cache $(papt_opts) "$@"; }
# shellcheck disable=SC2046
papt_get()   { apt-get -q $(papt_opts) "$@"; }

# Create the private apt configuration and fetch its lists (once a day at most,
# and at once when the sources changed: a suite added since the last update).
# bookworm and arm64 are there for the arm64 kernels and the cross sysroot
# (tools/cross-sysroot): the host's own apt knows neither arm64 nor, where its
# sources differ, bookworm-security's kernels.
papt_init_locked() {
	local src=$VM_APT/sources/kmemscope-vm.sources stamp=$VM_APT/lists/.updated new
	new=$(mktemp "$VM_APT/sources/.new.XXXXXX") && chmod 644 "$new"
	cat > "$new" <<-SRC
	Types: deb
	URIs: http://deb.debian.org/debian
	Suites: bookworm bookworm-updates bullseye trixie sid
	Components: main
	Architectures: amd64 arm64
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

	Types: deb
	URIs: http://deb.debian.org/debian-security
	Suites: bookworm-security bullseye-security
	Components: main
	Architectures: amd64 arm64
	Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
	SRC
	if cmp -s "$new" "$src"; then
		rm -f "$new"
	else
		rm -f "$stamp"
		mv "$new" "$src"
	fi
	if [[ -z $(find "$stamp" -mmin -1440 2>/dev/null) ]]; then
		log "updating private apt lists (bookworm, bullseye, trixie, sid; amd64, arm64)"
		papt_get update >/dev/null || die "apt-get update (private bookworm/bullseye/trixie/sid config) failed"
		touch "$stamp"
	fi
}

# The same, one caller at a time: vm-test.sh boots kernels in parallel, and
# each job's fetch passes here (one sources file, one set of lists).
papt_init() {
	mkdir -p "$VM_APT/sources" "$VM_APT/lists/partial" "$VM_APT/cache/archives/partial"
	touch "$VM_APT/status"
	{
		flock 9
		papt_init_locked
	} 9>"$VM_APT/.lock"
}

# kernel short name -> "host" or "private": which apt configuration finds it.
kernel_apt() {
	case $1 in
	6.1|6.12) echo host ;;
	5.10|sid|arm64-6.1|arm64-6.12|arm64-sid) echo private ;;
	*) echo "vm: error: unknown kernel '$1' (known: $VM_KERNELS_ALL)" >&2; exit 2 ;;
	esac
}

# kernel short name -> its Debian architecture (arm64-6.12: arm64)
kernel_arch() { case $1 in arm64-*) echo arm64 ;; *) echo amd64 ;; esac; }

kdir_of()    { echo "$VM_CACHE/$1"; }
release_of() { cat "$VM_CACHE/$1/release" 2>/dev/null || die "kernel $1 not fetched (run tools/vm/fetch-kernel.sh $1)"; }
