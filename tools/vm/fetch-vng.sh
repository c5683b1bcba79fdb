#!/usr/bin/env bash
# Provide virtme-ng (vng) and a working virtiofsd on a Debian 12 host, which
# packages neither, under build/vm/vng/ (VM_CACHE/vng):
#   bin/vng        runs trixie's virtme-ng (Architecture: all Python) with the
#                  host's /usr/bin/python3 and bookworm's python3-requests and
#                  python3-argcomplete (installed with apt when missing)
#   bin/virtiofsd  runs trixie's virtiofsd through trixie's own ld-linux with
#                  trixie's libc and the libraries it depends on unpacked
#                  beside it (virtiofsd needs a newer glibc than bookworm's)
# Packages come from trixie through the private apt configuration (sid when
# trixie lacks one); versions are resolved at run time, nothing is pinned.
# Both wrappers are run with --version before this script succeeds: a broken
# virtiofsd would make vng fall back to 9p, which Debian's cloud kernels lack
# (the guest then dies with "cannot open root device").
# Usage: tools/vm/fetch-vng.sh        prints the path of bin/vng
set -euo pipefail
# shellcheck source=tools/vm/lib.sh
. "$(dirname "$0")/lib.sh"

vdir=$VM_CACHE/vng
py=/usr/bin/python3     # the system's: apt's python3-requests lives in its dist-packages

# fetch PKG...: download the current .debs of trixie (else sid) into the deb
# cache; print their file names, one a line. One apt call per suite: each
# costs seconds with three suites' lists.
fetch() {
	local suite uris f
	for suite in trixie sid; do
		uris=$(papt_get download --print-uris "${@/%//$suite}" 2>/dev/null) && break
	done
	[[ -n $uris ]] || die "vng: no $* in trixie or sid"
	local missing=()
	while read -r f; do
		[[ -f $VM_DEBS/$f ]] || missing+=("${f%%_*}/$suite")
		echo "$f"
	done < <(sed -n "s/^'[^']*' \([^ ]*\.deb\) .*/\1/p" <<< "$uris")
	((${#missing[@]})) || return 0
	log "vng: downloading ${missing[*]}"
	(cd "$VM_DEBS" && papt_get -o APT::Sandbox::User=root download "${missing[@]}" >/dev/null) ||
		die "vng: apt-get download ${missing[*]} failed"
}

# The libraries virtiofsd's .deb depends on (libc6, libcap-ng0, ...), by name.
virtiofsd_libs() {
	dpkg-deb -f "$VM_DEBS/$1" Depends | tr ',' '\n' |
		sed -n 's/^ *\(lib[a-z0-9.+-]*\).*/\1/p' | sort -u
}

write_wrappers() {
	mkdir -p "$vdir/bin"
	cat > "$vdir/bin/vng" <<-EOF
	#!/bin/sh
	# virtme-ng unpacked from Debian (tools/vm/fetch-vng.sh); our virtiofsd and
	# virtme-run (vng runs it through the shell) first in PATH
	r=\$(cd "\$(dirname "\$0")/.." && pwd)
	PATH=\$r/bin:\$r/root/usr/bin:\$PATH PYTHONPATH=\$r/root/usr/lib/python3/dist-packages\${PYTHONPATH:+:\$PYTHONPATH} \\
		exec $py "\$r/root/usr/bin/vng" "\$@"
	EOF
	cat > "$vdir/bin/virtiofsd" <<-'EOF'
	#!/bin/sh
	# trixie's virtiofsd with trixie's loader and libraries (tools/vm/fetch-vng.sh)
	r=$(cd "$(dirname "$0")/.." && pwd)/root
	exec "$r/usr/lib/x86_64-linux-gnu/ld-linux-x86-64.so.2" \
		--library-path "$r/usr/lib/x86_64-linux-gnu:$r/lib/x86_64-linux-gnu" "$r/usr/libexec/virtiofsd" "$@"
	EOF
	chmod 755 "$vdir/bin/vng" "$vdir/bin/virtiofsd"
}

# check: both wrappers answer --version; else one line and exit 1.
check() {
	local v
	v=$("$vdir/bin/virtiofsd" --version 2>&1) || die "vng: virtiofsd does not run: $(head -1 <<< "$v")"
	v=$("$vdir/bin/vng" --version 2>&1) || die "vng: vng does not run: $(tail -1 <<< "$v")"
}

# need_py MODULE PACKAGE: install PACKAGE with apt when $py cannot import MODULE.
need_py() {
	$py -c "import $1" 2>/dev/null && return 0
	log "installing $2 (vng imports $1)"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null ||
		die "cannot install $2 (vng imports $1)"
}

need dpkg-deb dpkg
# virtme-ng's guest init takes udevd from the host's root: without one no
# /dev/virtio-ports links, and the guest powers off before the command runs
[[ -x /lib/systemd/systemd-udevd || -x /usr/lib/systemd/systemd-udevd ]] || command -v udevd >/dev/null ||
	need /lib/systemd/systemd-udevd udev
need file file          # vng reads the kernel's version with file(1)
need modprobe kmod      # vng resolves the guest's modules with modprobe/depmod
[[ -x $py ]] || need "$py" python3
need_py requests python3-requests
need_py argcomplete python3-argcomplete
# resolved and checked within the day: nothing to do (the lists' own rhythm)
if [[ -n $(find "$vdir/debs" -mmin -1440 2>/dev/null) ]] && (check) 2>/dev/null; then
	echo "$vdir/bin/vng"; exit 0
fi
mkdir -p "$VM_DEBS"
papt_init
mapfile -t debs < <(fetch virtme-ng virtiofsd)
vfs=$(printf '%s\n' "${debs[@]}" | grep '^virtiofsd_') || die "vng: virtiofsd not fetched"
mapfile -t libs < <(virtiofsd_libs "$vfs")
((${#libs[@]})) || die "vng: cannot read virtiofsd's dependencies from $vfs"
mapfile -t -O "${#debs[@]}" debs < <(fetch "${libs[@]}")
((${#debs[@]} == 2 + ${#libs[@]})) || die "vng: cannot fetch ${libs[*]}"
want=$(printf '%s\n' "${debs[@]}" | sort)
if [[ $(cat "$vdir/debs" 2>/dev/null) != "$want" ]]; then
	log "vng: unpacking ${debs[*]}"
	rm -rf "$vdir"; mkdir -p "$vdir/root"
	for f in "${debs[@]}"; do dpkg-deb -x "$VM_DEBS/$f" "$vdir/root"; done
	write_wrappers
	echo "$want" > "$vdir/debs"
fi
check
touch "$vdir/debs"
echo "$vdir/bin/vng"
