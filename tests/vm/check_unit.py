#!/usr/bin/env python3
"""Judge the systemd boot (tools/vm/run-unit.sh): the shipped kmemscope-agent.service
under a real systemd, as tests/vm/unit-guest.sh left it in RESULTS_DIR.

Usage: check_unit.py RESULTS_DIR [--kernel NAME] [--seconds N]

Checks (each PASS or FAIL with what was seen):
- unit.guest: the guest script ran to its end (it powers the guest off)
- unit.verify: systemd-analyze verify finds nothing wrong with the unit
- unit.start: systemctl start succeeds and /metrics answers, the unit active/running
- unit.caps: the agent runs with exactly the unit's bounding set (CAP_BPF,
  CAP_PERFMON, CAP_SYS_RESOURCE, CAP_SYSLOG) and no other capability,
  NoNewPrivs set: nothing root-only (CAP_SYS_ADMIN, CAP_DAC_OVERRIDE...) is needed
- unit.protect: ProtectSystem=strict holds in the agent's mount namespace
  (/usr and /etc read-only), ReadWritePaths keeps the textfile directory writable
- unit.metrics: the scrape passes promtool check metrics (skipped without promtool)
- unit.workload: kmemscope_family_allocations_total grew between two scrapes
  around a workload
- unit.textfile: the --textfile was written, from inside ProtectSystem=strict
- unit.reload: systemctl reload (SIGHUP) keeps the same process, active, and
  the agent says it read the kernel's symbols again; /metrics still answers
- unit.restart: kill -9 of the agent: systemd starts a new one (Restart=on-failure),
  NRestarts=1, /metrics answers again
- unit.stop: systemctl stop ends it cleanly (inactive, Result=success)
Last line: "unit: N passed, N failed, N skipped" (tests/run reads it). Exit 0, 1 on a failure, 2 usage.
"""
import argparse
import os
import re
import shutil
import subprocess
import sys

# capability numbers (linux/capability.h)
CAPS = {"CAP_SYS_RESOURCE": 24, "CAP_SYSLOG": 34, "CAP_PERFMON": 38, "CAP_BPF": 39}


class Judge:
    def __init__(self, res, kernel):
        self.res, self.kernel = res, kernel
        self.n = {"passed": 0, "failed": 0, "skipped": 0}

    def read(self, step, ext="out"):
        try:
            with open(os.path.join(self.res, f"{step}.{ext}"), encoding="utf-8",
                      errors="replace") as f:
                return f.read()
        except OSError:
            return None

    def rc(self, step):
        r = self.read(step, "rc")
        return int(r) if r and r.strip().lstrip("-").isdigit() else None

    def kv(self, step):
        return dict(line.split("=", 1) for line in (self.read(step) or "").splitlines()
                    if "=" in line)

    def check(self, name, ok, why=""):
        key = "passed" if ok else "failed"
        self.n[key] += 1
        print(f"{'PASS' if ok else 'FAIL'} {self.kernel}:{name}" + ("" if ok else f": {why}"))

    def skip(self, name, why):
        self.n["skipped"] += 1
        print(f"SKIP {self.kernel}:{name}: {why}")


def family_allocs(text):
    """kmemscope_family_allocations_total summed over families, None if absent."""
    vals = [float(m.group(1)) for m in re.finditer(
        r"^kmemscope_family_allocations_total\{[^}]*\} (\S+)$", text or "", re.M)]
    return sum(vals) if vals else None


def promtool(text):
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    return p.returncode == 0, (p.stdout + p.stderr).strip()[:400]


def judge(j):
    if not os.path.exists(os.path.join(j.res, "exit")):
        j.check("unit.guest", False, "the guest script did not reach its end "
                "(console: build/vm/<K>/unit.console.log)")
    else:
        j.check("unit.guest", True)
    verify = (j.read("verify") or "") + (j.read("verify.stderr") or "")
    j.check("unit.verify", j.rc("verify") == 0 and "kmemscope" not in verify,
            f"rc {j.rc('verify')}: {verify.strip()[:300]}")
    st = j.kv("state")
    j.check("unit.start", j.rc("start") == 0 and j.rc("up") == 0 and
            st.get("ActiveState") == "active" and st.get("SubState") == "running",
            f"start rc {j.rc('start')}, up rc {j.rc('up')}, {st}; "
            f"{(j.read('start.stderr') or '').strip()[:200]}")

    caps = j.kv("caps") | dict(re.findall(r"^(\w+):\s+(\S+)$", j.read("caps") or "", re.M))
    want = sum(1 << b for b in CAPS.values())
    try:
        bnd, eff, prm = (int(caps.get(k, "x"), 16) for k in ("CapBnd", "CapEff", "CapPrm"))
        j.check("unit.caps", bnd == want and eff & ~want == 0 and prm & ~want == 0 and
                caps.get("NoNewPrivs") == "1",
                f"CapBnd {bnd:#x} CapEff {eff:#x} CapPrm {prm:#x} (want {want:#x}), "
                f"NoNewPrivs {caps.get('NoNewPrivs')}")
    except ValueError:
        j.check("unit.caps", False, f"no capability lines: {caps}")

    pr = j.kv("protect")
    j.check("unit.protect", pr.get("usr") == "readonly" and pr.get("etc") == "readonly" and
            pr.get("textfile_dir") == "writable" and pr.get("host_usr") == "writable",
            f"{pr} (host_usr: /usr outside the unit, writable, or the probe proves nothing)")

    s1, s2 = j.read("scrape1"), j.read("scrape2")
    if not s1 or j.rc("scrape1") != 0:
        j.check("unit.metrics", False, f"no scrape (rc {j.rc('scrape1')})")
    elif not shutil.which("promtool"):
        j.skip("unit.metrics", "no promtool (apt-get install prometheus)")
    else:
        ok, msg = promtool(s1)
        j.check("unit.metrics", ok, msg)
    a1, a2 = family_allocs(s1), family_allocs(s2)
    j.check("unit.workload", a1 is not None and a2 is not None and a2 > a1,
            f"kmemscope_family_allocations_total {a1} then {a2}")

    tf = j.read("textfile")
    j.check("unit.textfile", j.rc("textfile") == 0 and family_allocs(tf) is not None,
            f"rc {j.rc('textfile')}: {(tf or '')[:200]!r}")

    rl = j.kv("reload")
    j.check("unit.reload", j.rc("reload") == 0 and rl.get("pid_before") not in (None, "0") and
            rl.get("pid_before") == rl.get("pid_after") and rl.get("ActiveState") == "active" and
            "SIGHUP" in (j.read("reload") or "") and rl.get("scrape") == "ok",
            (j.read("reload") or "").strip().replace("\n", "; ")[:400])

    k9 = j.kv("kill9")
    j.check("unit.restart", k9.get("pid_new") not in (None, "0", k9.get("pid_killed")) and
            k9.get("NRestarts") == "1" and k9.get("ActiveState") == "active" and
            j.rc("scrape3") == 0 and family_allocs(j.read("scrape3")) is not None,
            (j.read("kill9") or "").strip().replace("\n", "; ")[:400])

    so = j.kv("stopped")
    j.check("unit.stop", j.rc("stop") == 0 and so.get("ActiveState") == "inactive" and
            so.get("Result") == "success", f"stop rc {j.rc('stop')}, {so}")

    # issue 17: a traced command's cgroup in kmemscope's own delegated scope,
    # removed by systemd when kmemscope is SIGKILLed
    sc = j.kv("scope")
    j.check("unit.scope", sc.get("leaks_rc") == "0" and "plain" not in sc and
            bool(re.search(r"/kmemscope-\d+\.scope/command$", sc.get("command_cgroup", ""))),
            (j.read("scope") or "").strip().replace("\n", "; ")[:300])
    k = j.kv("scope_kill9")
    j.check("unit.scope_removed", k.get("scope", "").endswith(".scope") and
            k.get("scope_gone") == "1" and k.get("sleep_left") == "0" and
            k.get("units_left") == "0" and k.get("plain_left") == "0",
            (j.read("scope_kill9") or "").strip().replace("\n", "; ")[:400])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("results")
    ap.add_argument("--kernel", default="6.12")
    ap.add_argument("--seconds", type=int)
    a = ap.parse_args()
    j = Judge(a.results, a.kernel)
    judge(j)
    took = f" ({a.seconds} s)" if a.seconds is not None else ""
    print(f"kmemscope-agent.service under systemd, kernel {a.kernel}{took}")
    print(f"unit: {j.n['passed']} passed, {j.n['failed']} failed, {j.n['skipped']} skipped")
    return 1 if j.n["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
