#!/usr/bin/env bash
# Make (or reuse) a minimal Debian root of SUITE that holds PKG..., cached as
# build/vm/root-<SUITE>. build-module.sh builds the test module in it when the
# kernel's compiler cannot run on the host (sid's gcc needs sid's glibc).
# Usage: tools/vm/make-root.sh SUITE PKG...
# Prints the root's path. A cached root is reused while it has every PKG
# installed; otherwise it is made again from the archive with mmdebstrap
# (variant essential: dpkg, sh, coreutils, sed, grep, awk..., no apt).
# Exit 0 ready, 1 it could not be made (log: build/vm/root-<SUITE>.log).
set -euo pipefail
# shellcheck source=tools/vm/lib.sh
. "$(dirname "$0")/lib.sh"

(($# >= 2)) || usage "$0 SUITE PKG..."
suite=$1; shift
root=$VM_CACHE/root-$suite
rlog=$VM_CACHE/root-$suite.log
mirror=http://deb.debian.org/debian

# missing PKG...: print the packages not installed in the root.
missing() {
	local p
	for p in "$@"; do
		dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${db:Status-Status}' "$p" 2>/dev/null |
			grep -qx installed || echo "$p"
	done
}

# The host's own apt settings that decide whether the archive can be read at
# all (a frozen mirror's expired Release file, a proxy); mmdebstrap's apt does
# not read the host's apt.conf.
host_aptopts() {
	local o v
	for o in Acquire::Check-Valid-Until Acquire::Check-Date Acquire::http::Proxy Acquire::https::Proxy; do
		v=$(apt-config dump "$o" 2>/dev/null | sed -n "s|^$o \"\(.*\)\";\$|\1|p" | head -1)
		[[ -n $v ]] && echo "--aptopt=$o \"$v\";"
	done
	true
}

# remove DIR, unless something is still mounted below it (an interrupted
# mmdebstrap may leave /proc or /dev there: rm -rf would reach the host's).
remove() {
	[[ -e $1 ]] || return 0
	if awk -v d="$1" '$5 == d || index($5, d "/") == 1 { f = 1 } END { exit !f }' /proc/self/mountinfo; then
		die "$1 has mounts below it; unmount them (findmnt -R $1), then run again"
	fi
	rm -rf "$1"
}

if [[ -d $root/usr ]]; then
	lack=$(missing "$@" | tr '\n' ' ')
	[[ -z $lack ]] && { log "root-$suite: cached ($*)"; echo "$root"; exit 0; }
	log "root-$suite lacks $lack; making it again"
fi
need mmdebstrap mmdebstrap
mapfile -t aptopts < <(host_aptopts)
t0=$SECONDS
remove "$root.new"; remove "$root"
log "root-$suite: making a minimal $suite root with $* (mmdebstrap, log $rlog)"
# No documentation, manuals or translations: nothing reads them, and they are
# a third of the files dpkg writes.
if ! mmdebstrap --mode=root --format=directory --variant=essential \
	--include="$(IFS=,; echo "$*")" "${aptopts[@]}" --dpkgopt=force-unsafe-io \
	--dpkgopt='path-exclude=/usr/share/doc/*' --dpkgopt='path-exclude=/usr/share/man/*' \
	--dpkgopt='path-exclude=/usr/share/info/*' --dpkgopt='path-exclude=/usr/share/locale/*' \
	"$suite" "$root.new" "$mirror" >"$rlog" 2>&1; then
	remove "$root.new"
	log "root-$suite: mmdebstrap failed: $(grep -m1 '^E:' "$rlog" || tail -1 "$rlog")"
	exit 1
fi
mv "$root.new" "$root"
log "root-$suite: made in $((SECONDS - t0)) s, $(du -sm "$root" | cut -f1) MB"
echo "$root"
