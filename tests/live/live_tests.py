#!/usr/bin/env python3
"""Live tests on the running kernel (root, tracepoints only): known workloads in,
exact or lower-bound numbers out. Prints one line per test and 'N passed, N failed'."""
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KMS = os.environ.get("KMEMSCOPE", os.path.join(ROOT, "build", "kmemscope"))
PIPES = os.path.join(ROOT, "tests", "live", "workload_pipes.py")
FAMILIES = ("page", "kmalloc", "kmem_cache", "vmalloc", "dma")
results = []


def run(*args, user=None, timeout=60):
    cmd = [KMS, *args]
    if user:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *cmd]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def test(fn):
    try:
        fn()
        results.append((fn.__name__, None))
        print(f"ok   {fn.__name__}")
    except AssertionError as e:
        results.append((fn.__name__, str(e)))
        print(f"FAIL {fn.__name__}: {e}")
    except Exception as e:  # a crash of the harness is a failure too
        results.append((fn.__name__, repr(e)))
        print(f"FAIL {fn.__name__}: {e!r}")
    return fn


def rows(doc, family=None, function=None):
    return [c for c in doc["callers"]
            if (family is None or c["family"] == family)
            and (function is None or c["function"] in function)]


def top_json(*args):
    rc, out, err = run("top", "--json", *args, timeout=120)
    assert rc == 0, f"top exit {rc}: {err.strip()}"
    return json.loads(out)


@test
def probes_all_families_attached():
    rc, out, err = run("probes", "--json")
    assert rc == 0, f"exit {rc}: {err.strip()}"
    doc = json.loads(out)
    assert doc["kernel"] == os.uname().release
    for fam in FAMILIES:
        for ev in ("alloc", "free"):
            p = [x for x in doc["probes"] if x["family"] == fam and x["event"] == ev]
            assert len(p) == 1 and p[0]["attached"], f"{fam}/{ev} not attached: {p}"
            assert p[0]["mechanism"] in ("tp_btf", "raw_tp", "tracepoint"), \
                f"{fam}/{ev}: {p[0]['mechanism']} (this kernel has only tracepoints)"
    for x in doc["probes"]:
        assert x["attached"] or x["reason"], f"{x['family']}/{x['event']} unattached, no reason"


@test
def top_attributes_pipes_to_alloc_pipe_info():
    n = 300
    doc = top_json("--", sys.executable, PIPES, str(n))
    assert doc["events"]["lost"] == 0, f"lost events: {doc['events']}"
    assert doc["command_status"] == 0
    # alloc_pipe_info kmallocs the pipe_inode_info and the pipe_buffer array
    k = rows(doc, "kmalloc", ("alloc_pipe_info",))
    allocs = sum(r["allocs"] for r in k)
    assert allocs >= 2 * n, f"kmalloc at alloc_pipe_info: {allocs} < {2 * n}"
    frees = sum(r["frees"] for r in k)
    assert frees >= 2 * n, f"pipes closed, yet only {frees} frees matched"
    # each pipe has two struct file, from the filp cache
    f = [r for r in rows(doc, "kmem_cache") if r.get("cache") == "filp"]
    assert sum(r["allocs"] for r in f) >= 2 * n, f"filp allocations: {f}"
    # one byte written into each pipe: one page each, at the pipe's write function
    p = rows(doc, "page", ("anon_pipe_write", "pipe_write"))
    assert sum(r["allocs"] for r in p) >= n, f"pipe buffer pages: {p}"
    assert all(r["orders"].get("0") == r["allocs"] for r in p), f"pipe pages not order 0: {p}"


@test
def top_counts_are_consistent():
    doc = top_json("-d", "1")
    ev = doc["events"]
    assert ev["seen"] > 0, "no events at all in one second"
    assert ev["emitted"] + ev["filtered"] + ev["lost"] == ev["seen"], f"counters: {ev}"
    assert ev["received"] == ev["emitted"], f"records emitted but not received: {ev}"


@test
def top_text_output_and_duration():
    rc, out, err = run("top", "-d", "1", "-n", "5")
    assert rc == 0, f"exit {rc}: {err}"
    lines = out.splitlines()
    assert lines[0].startswith("kmemscope top:") and "lost" in lines[0], lines[:2]
    assert lines[1].split()[:3] == ["FAMILY", "ALLOCS", "FREES"], lines[1]
    assert 1 <= len(lines) - 2 <= 5, f"-n 5 gave {len(lines) - 2} rows"


@test
def summary_runs():
    rc, out, err = run("-d", "1")
    assert rc == 0, f"exit {rc}: {err}"
    assert "CALLER" in out


@test
def bad_input_is_a_usage_error():
    cases = [("top", "--no-such-flag"), ("top", "-d", "abc"), ("top", "-d", "-1"),
             ("top", "-n", "0"), ("frobnicate",), ("probes", "stray"),
             ("top", "--", "/no/such/command")]
    for args in cases:
        rc, out, err = run(*args)
        assert rc == 2, f"{args}: exit {rc}, want 2"
        assert err.startswith("kmemscope: error:") and err.count("\n") <= 20, f"{args}: {err!r}"


@test
def json_errors_are_json():
    rc, out, err = run("top", "--json", "-d", "abc")
    assert rc == 2
    doc = json.loads(out)
    assert "invalid duration" in doc["error"] and doc["exit_code"] == 2, doc


@test
def help_everywhere_with_examples():
    for args in (("--help",), ("top", "--help"), ("probes", "--help"), ("summary", "-h")):
        rc, out, err = run(*args)
        assert rc == 0 and "EXAMPLES" in out and "Usage" in out, f"{args}: {rc} {out[:80]!r}"


@test
def not_root_is_one_clear_line():
    rc, out, err = run("top", "-d", "1", user=65534)
    assert rc == 1, f"exit {rc}"
    assert "root" in err and len(err.strip().splitlines()) == 1, repr(err)


failed = sum(1 for _, e in results if e)
print(f"{len(results) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
