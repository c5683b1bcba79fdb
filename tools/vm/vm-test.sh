#!/usr/bin/env bash
# Run the VM test matrix: for each kernel fetch it, build the test module,
# boot it under QEMU (or virtme-ng), and check the results on the host.
# Usage: tools/vm/vm-test.sh [KERNEL[:RUNNER]...]     (default: 5.10 6.1 6.12 sid)
#   RUNNER: qemu or vng (default: $VM_RUNNER, else qemu); 6.12:vng boots 6.12
#   under virtme-ng (fetched by tools/vm/fetch-vng.sh unless VM_VNG names one)
#   env: KMEMSCOPE (tracer binary; default build/kmemscope.static), KMEMSCOPE_ARM64
#        (the arm64-* kernels'; default build/arm64/kmemscope.static), KMEMSCOPE_HOST
#        (the host's build, reads the guest's recording back; default: kmemscope
#        next to KMEMSCOPE), VM_TIMEOUT, VM_RUNNER, VM_VNG, VM_ORACLE (kernels that
#        also get the oracle boot under QEMU, tests/vm/check_oracle.py; default 6.12,
#        "" for none), VM_JOBS (kernels booted at once; default: the CPU count),
#        VM_PROGRESS (0: no progress lines; they are drawn on a terminal only)
# Exit: 0 all passed, 1 something failed, 2 usage, 4 nothing ran (all skipped).
# A kernel whose run-vm.sh exits non-zero (the guest could not start, died,
# hung, or its script's shell failed) fails, even where the checks it left
# all passed: it has at least one FAIL line.
set -euo pipefail
# shellcheck source=tools/vm/lib.sh
. "$(dirname "$0")/lib.sh"

kernels=("$@")
((${#kernels[@]})) || read -r -a kernels <<< "$VM_KERNELS_ALL"
tracer=${KMEMSCOPE:-$VM_ROOT/build/kmemscope.static}
tracer_arm64=${KMEMSCOPE_ARM64:-$VM_ROOT/build/arm64/kmemscope.static}
export KMEMSCOPE=$tracer KMEMSCOPE_ARM64=$tracer_arm64
host_kms=${KMEMSCOPE_HOST:-$(dirname "$tracer")/kmemscope}
need python3 python3
pass=0 fail=0 skip=0 summary=()

# count LINE: add a check_results.py final line "...: N passed, N failed, N skipped"
# (the oracle's adds ", N known gaps")
count() {
	local p f s
	read -r p f s < <(sed -n 's/.*: \([0-9]*\) passed, \([0-9]*\) failed, \([0-9]*\) skipped\(, [^:]*\)\{0,1\}$/\1 \2 \3/p' <<< "$1")
	pass=$((pass + ${p:-0})) fail=$((fail + ${f:-1})) skip=$((skip + ${s:-0}))
}

# oracle K ARGS...: a second boot of K with slub_debug=U (issue 21): the
# kernel's alloc_traces and vmallocinfo against kmemscope (tests/vm/README.md)
oracle() {
	local k=$1 t0=$SECONDS out rc=0
	shift
	case " ${VM_ORACLE-6.12} " in *" $k "*) ;; *) return ;; esac
	if ! printf '%s\n' 5.16 "$(release_of "$k")" | sort -V -C; then
		echo "SKIP $k:oracle (no alloc_traces before 5.16)"; skip=$((skip + 1)); return
	fi
	VM_RUNNER=qemu VM_APPEND="slub_debug=U kfence.sample_interval=0" VM_RESULTS=oracle \
		VM_GUEST_SCRIPT="$VM_ROOT/tests/vm/oracle-guest.sh" "$VM_ROOT/tools/vm/run-vm.sh" "$k" || rc=$?
	out=$(python3 "$VM_ROOT/tests/vm/check_oracle.py" --kernel "$k" "$@" "$(kdir_of "$k")/oracle" || true)
	echo "$out"
	count "$(tail -1 <<< "$out")"
	summary+=("$k oracle: $(tail -1 <<< "$out" | cut -d: -f3- | sed 's/^ *//') [guest rc=$rc; $((SECONDS - t0))s]")
}

one_kernel() {
	local spec=$1 k=${1%%:*} runner=${VM_RUNNER:-qemu} t0=$SECONDS dir mod args=() oargs out rc=0
	local before=$fail
	[[ $spec == *:* ]] && runner=${spec#*:}
	dir=$(kdir_of "$k")
	if ! "$VM_ROOT/tools/vm/fetch-kernel.sh" "$k"; then
		echo "FAIL $k: fetch"; fail=$((fail + 1)); summary+=("$k: fetch failed"); return
	fi
	if "$VM_ROOT/tools/vm/build-module.sh" "$k"; then
		mod="module built with $(cat "$dir/module/compiler")"
	else
		rc=$?; rm -f "$dir/module/kmemscope_test.ko"
		[[ $rc == 4 ]] || { echo "FAIL $k: module build error"; fail=$((fail + 1)); }
		mod="module not built: $({ grep -m1 -E 'error|Error' "$dir/module.log" || echo "see $dir/module.log"; } 2>/dev/null | cut -c1-120)"
		args+=(--module-skip "$mod")
		rc=0
	fi
	if [[ $(kernel_arch "$k") == arm64 ]]; then
		[[ -f $tracer_arm64 ]] || args+=(--no-tracer)
	else
		[[ -f $tracer ]] || args+=(--no-tracer)
	fi
	oargs=("${args[@]}")
	[[ -x $host_kms ]] && args+=(--host-kmemscope "$host_kms")
	VM_RUNNER=$runner "$VM_ROOT/tools/vm/run-vm.sh" "$k" || rc=$?
	if [[ -d $dir/results ]]; then     # run-vm.sh deleted the last run's first
		out=$(python3 "$VM_ROOT/tests/vm/check_results.py" --kernel "$spec" "${args[@]}" "$dir/results" || true)
		echo "$out"
		echo "$spec: slowest guest steps (s): $(cd "$dir/results" && for f in *.time; do
			[[ -f $f ]] && echo "$(cat "$f") ${f%.time}"; done | sort -rn | head -4 | tr '\n' ' ')"
	else
		out="$spec: 0 passed, 0 failed, 0 skipped"
	fi
	count "$(tail -1 <<< "$out")"
	if ((rc != 0 && fail == before)); then
		echo "FAIL $spec:guest.run (run-vm.sh exit $rc: see the lines above and $dir/console.log)"
		fail=$((fail + 1)) out="$spec: guest did not run to the end"
	fi
	out=$(tail -1 <<< "$out")
	summary+=("$spec: ${out#"$spec: "} [$mod; $runner; guest rc=$rc; $((SECONDS - t0))s]")
	if [[ $runner == qemu ]]; then oracle "$k" "${oargs[@]}"; fi
}

want_vng=
for k in "${kernels[@]}"; do
	kernel_apt "${k%%:*}" >/dev/null
	case $k in
	*:vng) want_vng=1 ;;
	*:qemu) ;;
	*:*) usage "$0 [KERNEL[:qemu|:vng]...]" ;;
	*) [[ ${VM_RUNNER:-qemu} == vng ]] && want_vng=1 ;;
	esac
done
# vng for the :vng kernels: unpacked into the cache unless VM_VNG names one.
# When that fails, run-vm.sh says so for each of them, and they fail.
if [[ -n $want_vng && -z ${VM_VNG:-} ]]; then
	"$VM_ROOT/tools/vm/fetch-vng.sh" >/dev/null || log "fetch-vng.sh failed: the vng kernels will fail"
fi
# One job per kernel: its specs (6.12 and 6.12:vng) run one after the other,
# as they share build/vm/<K>; up to VM_JOBS kernels at once (default: the CPU
# count: each TCG guest is one host thread). The fetches come first, one at a
# time (they share the private apt lists); each job's output is shown whole,
# in the order of the kernels.
run_job() {	# run_job OUT SPEC...: OUT.counts, OUT.summary
	local o=$1 spec
	shift
	pass=0 fail=0 skip=0 summary=()
	for spec; do
		echo "=== $spec"
		one_kernel "$spec"
	done
	echo "$pass $fail $skip" > "$o.counts"
	printf '%s\n' "${summary[@]}" > "$o.summary"
}

order=()
declare -A group=()
for spec in "${kernels[@]}"; do
	k=${spec%%:*}
	[[ -v "group[$k]" ]] || order+=("$k")
	group[$k]+="$spec "
done
for k in "${order[@]}"; do "$VM_ROOT/tools/vm/fetch-kernel.sh" "$k" || true; done
jobs_max=${VM_JOBS:-$(nproc)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Progress on a terminal (VM_PROGRESS=0: never): a line per kernel, redrawn
# every second below the output so far: waiting, preparing (fetch, module),
# booting, tests done/total (total: what the kernel's last run had), elapsed.
# Not on a pipe or file: CI logs stay as they were.
progress=
[[ -t 1 && ${VM_PROGRESS:-1} != 0 ]] && progress=1
declare -A total=()
steps_in() {	# steps_in DIR: the steps a finished run left there (0: none)
	local f n=0
	for f in "$1"/*.rc; do
		[[ -f $f && $f != *.stderr.rc ]] && n=$((n + 1))
	done
	echo "$n"
}
state_of() {	# state_of I: what job I is doing now
	local k=${order[$1]} dir con spec n tot
	[[ -n ${pids[$1]:-} ]] || { echo "$k: waiting for a free CPU (VM_JOBS=$jobs_max)"; return; }
	dir=$(kdir_of "$k")
	spec=$(grep '^=== ' "$tmp/$1.log" 2>/dev/null | tail -1)
	spec=${spec#=== }
	for con in "$dir/oracle.console.log" "$dir/console.log"; do
		[[ $con -nt $tmp/$1.start ]] && break
	done
	if [[ ! $con -nt $tmp/$1.start ]]; then
		echo "${spec:-$k}: preparing (kernel, module)"; return
	fi
	if [[ $con == */oracle.console.log ]]; then
		spec="$k oracle" tot=${total[$k.oracle]}
	else
		tot=${total[$k]}
	fi
	n=$(tr -d '\r' < "$con" | awk '/@@KMS END / && !/\.stderr rc=/ { n++ }
		/@@KMS EXIT / { x = 1 } END { print (x ? "x" : "") n + 0 }')
	if [[ $n == x* ]]; then
		echo "$spec: checking the results"
	elif ((n == 0)); then
		echo "$spec: booting"
	else
		# out of the last run's count, while the run stays within it
		echo "$spec: tests $n/$( ((tot >= n)) && echo "$tot" || echo '?')"
	fi
}
drawn=0
draw() {	# draw FROM: the lines of jobs FROM..last, the cursor left above them
	local j line block=""
	drawn=0
	for ((j = $1; j < ${#order[@]}; j++)); do
		line=$(state_of "$j")
		[[ -n ${pids[j]:-} ]] && line=$(printf '%-56s %4ds' "$line" $((SECONDS - started[j])))
		block+=$(printf '  %.76s' "$line")$'\n'
		drawn=$((drawn + 1))
	done
	# all at once (no flicker), the cursor back above the lines
	printf '\033[J%s\033[%dA' "$block" "$drawn"
}
undraw() { ((drawn == 0)) || printf '\033[J'; drawn=0; }

start=$SECONDS pids=() started=() next=0
launch_more() {	# start jobs while there are free slots
	local k
	while ((next < ${#order[@]})) && (($(jobs -rp | wc -l) < jobs_max)); do
		k=${order[$next]}
		total[$k]=$(steps_in "$(kdir_of "$k")/results")
		total[$k.oracle]=$(steps_in "$(kdir_of "$k")/oracle")
		touch "$tmp/$next.start"
		started[next]=$SECONDS
		# shellcheck disable=SC2086  # the group's specs, one word each
		run_job "$tmp/$next" ${group[$k]} > "$tmp/$next.log" 2>&1 &
		pids[next]=$!
		next=$((next + 1))
	done
}
running() { [[ -z ${pids[$1]:-} || " $(jobs -rp | tr '\n' ' ') " == *" ${pids[$1]} "* ]]; }
for i in "${!order[@]}"; do
	launch_more
	while running "$i"; do
		if [[ -n $progress ]]; then
			draw "$i"; sleep 1
		else
			wait -n || true
		fi
		launch_more
	done
	undraw
	wait "${pids[i]}" 2>/dev/null || true
	cat "$tmp/$i.log"
	read -r p f s < "$tmp/$i.counts" 2>/dev/null || { p=0 f=1 s=0; echo "FAIL ${order[$i]}: its job died"; }
	pass=$((pass + p)) fail=$((fail + f)) skip=$((skip + s))
	[[ -f $tmp/$i.summary ]] && mapfile -t -O "${#summary[@]}" summary < "$tmp/$i.summary"
done
echo "=== matrix (${#kernels[@]} boots of ${#order[@]} kernels, up to $jobs_max at once, $((SECONDS - start))s)"
printf '  %s\n' "${summary[@]}"
echo "$pass passed, $fail failed, $skip skipped"
((fail == 0)) || exit 1
((pass > 0)) || exit 4
