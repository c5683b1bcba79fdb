#!/usr/bin/env python3
"""Host-side assertions on one kernel's VM results (python3 stdlib only).

Usage: check_results.py RESULTS_DIR [--module-skip REASON] [--no-tracer]

RESULTS_DIR holds what tools/vm/run-vm.sh extracted from the console:
<step>.out, <step>.rc, <step>.stderr.out, uname, exit. The step names and
workload sizes come from tests/vm/guest-test.sh; change both together.
Prints one line per check and a final "N passed, N failed, N skipped".
Exit: 0 no failure, 1 some failure, 2 usage.
"""
import argparse
import json
import os
import sys

PAGE = 4096
CACHE_SIZE = 200  # kmst_cache object size, tests/module/README.md

# ctl read-back after "<cmd> [keep]", exactly (guest-test.sh WORKLOADS).
HELD = {
    "kmalloc": "kmalloc count=100 bytes=25600",
    "kzalloc": "kzalloc count=50 bytes=50000",
    "cache": "cache count=64 bytes=%d" % (64 * CACHE_SIZE),
    "pages": "pages count=16 bytes=%d order=2" % (16 * 4 * PAGE),
    "vmalloc": "vmalloc count=8 bytes=%d" % (8 * 65536),
    "vzalloc": "vzalloc count=8 bytes=%d" % (8 * 12345),
    "dma": "dma count=8 bytes=%d" % (8 * 8192),
    "app_leak": "app_leak count=32 bytes=%d" % (32 * PAGE),
    "driver_trim": "driver_trim count=20 bytes=%d" % (4 * 5 * PAGE),
    "mempool": "mempool count=14 bytes=%d reserve=4 reserve_used=4" % (14 * 512),
}
NOKEEP = ["kmalloc", "kzalloc", "cache", "pages", "vmalloc", "vzalloc", "dma"]
BAD = ["bad_empty", "bad_word", "bad_noargs", "bad_zero", "bad_n", "bad_size",
       "bad_num", "bad_neg", "bad_extra", "bad_keepword", "bad_order", "bad_total",
       "bad_trim_s", "bad_trim_k", "bad_leak_keep", "bad_leak_wrap", "bad_pool_wrap",
       "bad_release"]

# The caller row each traced workload must produce: (family, function) plus
# exact fields. The command is run without "keep" where that exists.
TOP = {
    "kmalloc": ("kmalloc", "kmst_kmalloc", dict(allocs=100, bytes_req=25600, frees=100)),
    "kzalloc": ("kmalloc", "kmst_kzalloc", dict(allocs=50, bytes_req=50000, frees=50)),
    "cache": ("kmem_cache", "kmst_cache_alloc",
              dict(allocs=64, bytes_req=64 * CACHE_SIZE, frees=64, cache="kmst_cache")),
    "pages": ("page", "kmst_alloc_pages", dict(allocs=16, frees=16, orders={"2": 16})),
    "vmalloc": ("vmalloc", "kmst_vmalloc", dict(allocs=8)),
    "vzalloc": ("vmalloc", "kmst_vzalloc", dict(allocs=8)),
    "dma": ("dma", "kmst_dma_alloc", dict(allocs=8, bytes_req=8 * 8192, frees=8)),
    "app_leak": ("page", "kmst_app_leak", dict(allocs=32 * 16, frees=32 * 15,
                                                orders={"0": 32 * 16})),
    "driver_trim": ("page", "kmst_driver_trim", dict(allocs=4, orders={"3": 4})),
    "mempool": ("kmalloc", "kmst_pool_alloc", dict(allocs=14, bytes_req=14 * 512, frees=0)),
}
# Every workload and release function, by the name README.md documents.
FUNCTIONS = ["kmst_kmalloc", "kmst_kzalloc", "kmst_cache_alloc", "kmst_alloc_pages",
             "kmst_vmalloc", "kmst_vzalloc", "kmst_dma_alloc", "kmst_app_leak",
             "kmst_driver_trim", "kmst_pool_alloc", "kmst_pool_free", "kmst_mempool_create",
             "kmst_mempool"] + ["kmst_release_" + k for k in HELD]
RMMOD_HELD = 8  # kinds held when rmmod_held runs rmmod
FAMILIES = ["page", "kmalloc", "kmem_cache", "vmalloc", "dma"]
PIPES = 50  # top_pipes: pipelines the guest runs


class Checker:
    def __init__(self, results, kernel):
        self.dir, self.kernel = results, kernel
        self.counts = {"PASS": 0, "FAIL": 0, "SKIP": 0}

    def report(self, verdict, name, detail=""):
        self.counts[verdict] += 1
        print("%-4s %s:%s%s" % (verdict, self.kernel, name, " (%s)" % detail if detail else ""))

    def ok(self, cond, name, detail=""):
        self.report("PASS" if cond else "FAIL", name, "" if cond else detail)

    def read(self, name):
        try:
            with open(os.path.join(self.dir, name)) as f:
                return f.read()
        except OSError:
            return None

    def step(self, name):
        """(rc, stdout, stderr) of a guest step; rc None when it did not run."""
        rc = self.read(name + ".rc")
        return (int(rc) if rc and rc.strip().lstrip("-").isdigit() else None,
                self.read(name + ".out") or "", self.read(name + ".stderr.out") or "")


def check_module(c):
    rc, _, err = c.step("insmod")
    c.ok(rc == 0, "module.insmod", "rc=%s %s" % (rc, err.strip()))
    if rc != 0:
        return
    _, out, _ = c.step("kallsyms")
    syms = {l.split()[1] for l in out.splitlines() if len(l.split()) == 2}
    missing = sorted(set(FUNCTIONS) - syms)
    odd = sorted(s for s in syms if "." in s)  # .isra/.constprop clones
    c.ok(not missing and not odd, "module.function_names",
         "missing %s; renamed clones %s" % (missing, odd))
    rc, out, _ = c.step("slab")
    c.ok(rc == 0 and out.startswith("d"), "module.kmst_cache_unmerged",
         "kmst_cache must be its own directory in /sys/kernel/slab and a line in "
         "/proc/slabinfo: %r" % out)
    for kind, line in HELD.items():
        rc, out, err = c.step("mod_" + kind)
        c.ok(rc == 0 and out == line + "\n", "module.%s.held" % kind,
             "rc=%s want %r got %r %s" % (rc, line, out, err.strip()))
    for kind in NOKEEP:
        rc, out, err = c.step("mod_%s_nokeep" % kind)
        c.ok(rc == 0 and out == "", "module.%s.freed" % kind,
             "rc=%s nothing must stay held, got %r %s" % (rc, out, err.strip()))
    for name in BAD:
        rc, _, err = c.step(name)
        c.ok(rc not in (0, None) and "Invalid argument" in err, "module.%s.einval" % name,
             "rc=%s %r" % (rc, err.strip()))
    rc, _, err = c.step("bad_busy")
    c.ok(rc not in (0, None) and "busy" in err, "module.second_keep.ebusy", "rc=%s %r" % (rc, err))
    rc, out, err = c.step("enomem")
    c.ok(rc == 0 and "Cannot allocate memory" in err and out.endswith("--\n"),
         "module.over_commit.enomem", "rc=%s want an ENOMEM and nothing held after release: "
         "%r %r" % (rc, out, err.strip()))
    rc, out, err = c.step("rmmod_held")
    c.ok(rc == 0 and len(out.splitlines()) == RMMOD_HELD, "module.rmmod_with_all_held",
         "rc=%s held=%r %s" % (rc, out, err.strip()))
    _, out, _ = c.step("dmesg")
    bad = [l for l in out.splitlines() if any(w in l for w in ("BUG", "WARNING", "Oops", "Call Trace", "oom-kill"))]
    c.ok(not bad, "module.dmesg_clean", "; ".join(bad[:3]))


def tracer_json(c, step):
    """Parsed JSON of a tracer step, or None after reporting FAIL/SKIP."""
    rc, out, err = c.step(step)
    if rc is None:
        c.report("FAIL", "tracer." + step, "step did not run")
    elif rc == 4:
        c.report("SKIP", "tracer." + step, "kmemscope exit 4: " + err.strip()[:200])
    elif rc != 0:
        c.report("FAIL", "tracer." + step, "rc=%d %s" % (rc, err.strip()[:300]))
    else:
        try:
            return json.loads(out)
        except ValueError as e:
            c.report("FAIL", "tracer." + step, "bad JSON: %s: %r" % (e, out[:200]))
    return None


def merged_row(doc, family, function):
    """All caller rows of (family, function) summed into one, or None.
    A function may show several call sites (caller offsets); the workload
    contract is about the function."""
    found = [r for r in doc.get("callers", [])
             if r.get("family") == family and r.get("function") == function]
    if not found:
        return None
    m = dict(found[0])
    for r in found[1:]:
        for k in ("allocs", "frees", "bytes_req", "bytes_alloc"):
            m[k] = m.get(k, 0) + r.get(k, 0)
        for o, n in (r.get("orders") or {}).items():
            m.setdefault("orders", {})[o] = m.get("orders", {}).get(o, 0) + n
    return m


def check_probes(c):
    doc = tracer_json(c, "probes")
    if doc is None:
        return
    for fam in FAMILIES:
        att = [p for p in doc.get("probes", []) if p.get("family") == fam and p.get("attached")]
        c.ok(bool(att), "tracer.probes.%s" % fam, "no attached probe for family %s" % fam)


def check_pipes(c):
    doc = tracer_json(c, "top_pipes")
    if doc is None:
        return
    n = sum(r.get("allocs", 0) for r in doc.get("callers", [])
            if r.get("function") == "alloc_pipe_info")
    c.ok(n >= PIPES, "tracer.top_pipes.alloc_pipe_info", "allocs %d < %d" % (n, PIPES))


def check_top(c, kind):
    family, function, want = TOP[kind]
    doc = tracer_json(c, "top_" + kind)
    if doc is None:
        return
    r = merged_row(doc, family, function)
    lost = doc.get("events", {}).get("lost")
    if r is None:
        near = sorted({"%s/%s" % (x.get("family"), x.get("function"))
                       for x in doc.get("callers", []) if x.get("module") == "kmemscope_test"
                       or x.get("family") == family and x.get("allocs") == want["allocs"]})
        c.report("FAIL", "tracer.top_%s" % kind, "no %s row at %s (lost=%s); candidates: %s"
                 % (family, function, lost, ", ".join(near)[:300]))
        return
    bad = ["%s=%r want %r" % (k, r.get(k), v) for k, v in want.items() if r.get(k) != v]
    if r.get("module") != "kmemscope_test":
        bad.append("module=%r" % r.get("module"))
    c.ok(not bad, "tracer.top_%s" % kind, "; ".join(bad) + " (lost=%s)" % lost)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("results")
    ap.add_argument("--kernel", default=None, help="name printed with each check")
    ap.add_argument("--module-skip", metavar="REASON", help="module not built: skip its checks")
    ap.add_argument("--no-tracer", action="store_true", help="no kmemscope binary in the guest")
    a = ap.parse_args()
    c = Checker(a.results, a.kernel or os.path.basename(os.path.dirname(os.path.abspath(a.results))))

    rc = c.read("exit")
    c.ok(rc is not None and rc.strip() == "0", "guest.exit", "guest exit status %r" % rc)
    uname = (c.read("uname") or "").strip()
    c.ok(bool(uname), "guest.uname", "guest printed no uname -r")
    if a.module_skip:
        c.report("SKIP", "module", a.module_skip)
    else:
        check_module(c)
    if a.no_tracer:
        c.report("SKIP", "tracer", "no build/kmemscope.static")
    else:
        check_probes(c)
        check_pipes(c)
        for kind in TOP:
            if a.module_skip:
                c.report("SKIP", "tracer.top_" + kind, "no module")
            else:
                check_top(c, kind)
    n = c.counts
    print("%s: %s: %d passed, %d failed, %d skipped" % (c.kernel, uname or "?", n["PASS"],
                                                       n["FAIL"], n["SKIP"]))
    return 1 if n["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
