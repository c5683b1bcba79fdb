#!/usr/bin/env python3
"""Fleet mode on the running kernel (root): pprof profiles read back with
Debian's go tool pprof and compared with the JSON of the same run; the agent's
metrics checked by promtool and scraped by a real Prometheus; --cgroup with
processes in nested cgroups made here. Arguments name the tests to run."""
import collections
import json
import os
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KMS = os.environ.get("KMEMSCOPE", os.path.join(ROOT, "build", "kmemscope"))
PIPES = os.path.join(ROOT, "tests", "live", "workload_pipes.py")
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fleet"))
from harness import summary, test  # noqa: E402
import pprof_raw  # noqa: E402

TMP = tempfile.mkdtemp(prefix="kms-fleet.")
VALUES = ("allocs", "bytes_alloc", "live", "live_bytes")
# leaks' JSON rows: what is outstanding (inuse_objects, inuse_space)
LEAK_VALUES = [lambda c: c["count"], lambda c: c["bytes"]]


def run(*args, timeout=120):
    p = subprocess.run([KMS, *args], capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"kmemscope {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}"
    return p.stdout


def need(tool, pkg):
    if not shutil.which(tool):
        raise AssertionError(f"{tool} missing (Debian package {pkg}: tools/deps all)")


def leaf_function(prof, sample):
    """The caller: the last location (the wrapper, if any, comes first)."""
    return prof["locations"][sample["locs"][-1]][1]


def check_profile_matches(prof, callers, values, first=0):
    """Every JSON row is one sample: same family, caller, cache, class, and
    values (the sample's from index @first on; None in @callers: any)."""
    assert prof["types"] == ["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"], \
        prof["types"]
    assert len(prof["samples"]) == len(callers), \
        f"{len(prof['samples'])} samples for {len(callers)} JSON rows"

    def key(fam, fn, cache, cls, vals):
        return (fam, fn, cache, cls, vals)
    want = [key(c["family"], c["function"], c.get("cache"), c.get("class"),
                tuple(v(c) for v in values)) for c in callers]
    got = collections.Counter()
    for s in prof["samples"]:
        lb = s["labels"]
        vals = tuple(s["values"][first:])
        k = key(lb.get("family"), leaf_function(prof, s), lb.get("cache"), lb.get("class"), vals)
        # a wanted None takes any value at that place
        for w in want:
            if all(a is None or a == b for a, b in zip(w[4], vals)) and w[:4] == k[:4]:
                k = w
                break
        got[k] += 1
    want = collections.Counter(want)
    assert got == want, (f"only pprof: {list((got - want).items())[:3]}, "
                         f"only JSON: {list((want - got).items())[:3]}")
    files = set(prof["mappings"].values())
    assert "[kernel.kallsyms]" in files, files
    assert all(f.startswith("[") and f.endswith("]") for f in files), files


def leak_samples(rows):
    """The samples a leaks report's rows make: a row's part held by processes
    still running is one of its own, class process."""
    out = []
    for r in rows:
        held = r["still_running"] if r["class"] != "process" else 0
        if held:	# JSON gives the count held, not the bytes
            out.append(dict(r, count=held, bytes=None, **{"class": "process"}))
        out.append(dict(r, count=r["count"] - held, bytes=None if held else r["bytes"]))
    return out


def top_values():
    return [lambda c, k=k: c[k] for k in VALUES]


@test
def pprof_top_matches_json_of_the_same_run():
    need("go", "golang-go")
    path = os.path.join(TMP, "top.pb.gz")
    doc = json.loads(run("top", "--json", "--pprof", path, "--",
                         sys.executable, PIPES, "300"))
    prof = pprof_raw.read(path)
    check_profile_matches(prof, doc["callers"], top_values())
    # -top agrees: alloc_pipe_info's flat allocations are the JSON's
    want = sum(c["allocs"] for c in doc["callers"]
               if c["function"] == "alloc_pipe_info" and not c["via"])
    assert want >= 300, f"alloc_pipe_info allocs {want}"
    out = pprof_raw.go_pprof("-top", "-nodefraction=0", "-nodecount=100000",
                             "-sample_index=alloc_objects", path)
    flat = {ln.split()[-1]: ln.split()[0] for ln in out.splitlines()
            if ln.strip().endswith("alloc_pipe_info")}
    assert flat.get("alloc_pipe_info") == str(want), f"-top: {flat}, JSON: {want}"


@test
def pprof_leaks_matches_json_of_the_same_run():
    need("go", "golang-go")
    path = os.path.join(TMP, "leaks.pb.gz")
    holder = f"{sys.executable} {PIPES} 100 8 & sleep 1.5"
    try:
        doc = json.loads(run("leaks", "--json", "--settle", "0.5", "--pprof", path, "--",
                             "sh", "-c", holder))
    finally:
        subprocess.run(["pkill", "-f", f"{PIPES} 100 8"])
    prof = pprof_raw.read(path)
    rows = leak_samples(doc["outstanding"])
    assert rows, "nothing outstanding"
    check_profile_matches(prof, rows, LEAK_VALUES, first=2)
    per_class = collections.Counter()
    for s in prof["samples"]:
        per_class[s["labels"]["class"]] += s["values"][2]
    for cls, t in doc["totals"].items():
        assert per_class[cls] == t["count"], f"{cls}: pprof {per_class[cls]}, JSON {t}"
    assert per_class["process"] >= 100, per_class


@test
def pprof_of_a_replay_matches_its_json():
    need("go", "golang-go")
    rec = os.path.join(TMP, "t.kms")
    run("record", "-o", rec, "--force", "--", sys.executable, PIPES, "200")
    for view in ("top", "leaks"):
        path = os.path.join(TMP, f"replay-{view}.pb.gz")
        doc = json.loads(run("report", rec, view, "--json", "--pprof", path))
        prof = pprof_raw.read(path)
        if view == "top":
            check_profile_matches(prof, doc["callers"], top_values())
        else:
            check_profile_matches(prof, leak_samples(doc["outstanding"]), LEAK_VALUES,
                                  first=2)
        # the same file again: the same bytes (nothing but the recording in it)
        again = path + ".2"
        run("report", rec, view, "--pprof", again)
        assert open(path, "rb").read() == open(again, "rb").read(), f"{view}: differs"


if __name__ == "__main__":
    shutil.rmtree(TMP, ignore_errors=True)
    summary()
