#!/usr/bin/env python3
"""kmemscope under a sanitizer build (make asan: $OUT=build-asan) or valgrind
(make valgrind: $KMS_WRAP): every view of every fuzz-corpus recording and of a
damaged copy, then a short live run (top, leaks, check, record and its report)
when root. A sanitizer or valgrind report fails the test, whatever the exit
code. Prints one line per test and 'N passed, N failed'."""
import glob
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.environ.get("OUT", "build")
KMS = os.path.join(ROOT, OUT, "kmemscope")
WRAP = os.environ.get("KMS_WRAP", "").split()
CORPUS = sorted(glob.glob(os.path.join(ROOT, "tests", "fuzz", "recfile", "*.kms")))
REPORTED = re.compile(r"ERROR: AddressSanitizer|runtime error:|ERROR: LeakSanitizer|"
                      r"==\d+== (Invalid|Conditional|Use of uninit|Syscall param)")
ENV = dict(os.environ, ASAN_OPTIONS="exitcode=66:detect_leaks=1",
           UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1")
sys.path.insert(0, os.path.join(ROOT, "tests"))
from harness import loads, summary, test  # noqa: E402


def run(*args, timeout=120):
    p = subprocess.run([*WRAP, KMS, *args], capture_output=True, text=True, timeout=timeout,
                       env=ENV)
    found = REPORTED.search(p.stderr)
    assert not found and p.returncode not in (66, 99, 134), \
        f"{' '.join(args)}: exit {p.returncode}: {p.stderr[max(0, found.start() - 200) if found else -600:][:1200]}"
    return p.returncode, p.stdout, p.stderr


def damaged(src, dst):
    data = bytearray(open(src, "rb").read())
    for at in range(64, len(data), max(1, len(data) // 7)):
        data[at] ^= 0x5a
    open(dst, "wb").write(bytes(data))


@test
def every_view_of_the_corpus():
    assert CORPUS, "no recordings in tests/fuzz/recfile"
    with tempfile.TemporaryDirectory() as d:
        for f in CORPUS:
            bad = os.path.join(d, "bad-" + os.path.basename(f))
            damaged(f, bad)
            for path in (f, bad):
                html = os.path.join(d, "r.html")
                for view in (["top"], ["leaks"], ["frag"], ["top", "--json"], ["--folded"],
                             ["leaks", "--folded", "--weight", "count"],
                             ["-i", "0.5", "--html", html], ["leaks", "-i", "0.5", "--html", html],
                             ["frag", "-i", "0.5", "--html", html]):
                    rc, out, _ = run("report", path, *view)
                    if "--json" in view:
                        loads(out, "top", error_ok=True)


@test
def a_short_live_run():
    if os.geteuid() != 0:
        return
    with tempfile.TemporaryDirectory() as d:
        rec = os.path.join(d, "r.kms")
        loads(run("top", "-d", "1", "--json")[1], "top")
        loads(run("leaks", "--json", "--", "sh", "-c", "echo x | cat > /dev/null")[1], "leaks")
        loads(run("check", "--json", "--settle", "0.5", "--", "true")[1], "check")
        run("record", "-o", rec, "-d", "1")
        run("report", rec, "leaks")


summary()
