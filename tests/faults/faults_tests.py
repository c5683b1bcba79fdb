#!/usr/bin/env python3
"""Faults as users meet them (issue: faults, signals and bad files): commands
that cannot run, processes that do not exist, outputs that cannot be written,
special files given as recordings. Each test asserts the exit code and the
one-line error. Prints one line per test and 'N passed, N failed'."""
import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KMS = os.environ.get("KMEMSCOPE", os.path.join(ROOT, "build", "kmemscope"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from harness import summary, test  # noqa: E402


def run(*args, timeout=30, **kw):
    p = subprocess.run([KMS, *args], capture_output=True, text=True, timeout=timeout, **kw)
    return p.returncode, p.stdout, p.stderr


def run_to(f, *args):
    p = subprocess.run([KMS, *args], stdout=f, stderr=subprocess.PIPE, text=True, timeout=60)
    return p.returncode, "", p.stderr


def one_error(err, *words):
    lines = [l for l in err.splitlines() if l.startswith("kmemscope: error:")]
    assert len(lines) == 1, f"want one error line, got {err!r}"
    for w in words:
        assert w in lines[0], f"{w!r} not in {lines[0]!r}"


def cgroups_of_kmemscope():
    try:
        return {d for d in os.listdir("/sys/fs/cgroup") if d.startswith("kmemscope.")}
    except OSError:
        return set()


@test
def a_command_that_cannot_run_is_a_usage_error_before_tracing():
    before = cgroups_of_kmemscope()
    for cmd, words in ((["leaks", "--", ""], ("empty",)),
                       (["leaks", "--", "/etc"], ("/etc", "not an executable")),
                       (["check", "--", "no-such-command-kms"], ("not found",)),
                       (["top", "--", "./no/such/file"], ("no such file",))):
        t0 = time.monotonic()
        rc, out, err = run(*cmd)
        assert rc == 2, f"{cmd}: exit {rc}, want 2: {err!r}"
        one_error(err, *words)
        assert "tracing" not in err, f"{cmd} traced before failing: {err!r}"
        assert time.monotonic() - t0 < 5, f"{cmd} took {time.monotonic() - t0:.1f}s"
    assert cgroups_of_kmemscope() == before, "a cgroup was left behind"


@test
def a_pid_that_does_not_exist_is_an_error():
    rc, _, err = run("top", "-p", "3999999", "-d", "1")
    assert rc == 2, f"exit {rc}: {err!r}"
    one_error(err, "no process with pid 3999999")


@test
def a_full_stdout_is_a_failure():
    with open("/dev/full", "w") as full:
        for args in (["probes"], ["probes", "--json"], ["--help"], ["top", "--help"]):
            rc, _, err = run_to(full, *args)
            assert rc == 1, f"{args} > /dev/full: exit {rc}: {err!r}"
            one_error(err, "cannot write the output")


@test
def a_closed_stdout_is_a_failure():
    p = subprocess.run(f"exec >&-; exec '{KMS}' probes", shell=True, stderr=subprocess.PIPE,
                       text=True, timeout=60)
    assert p.returncode == 1, f"exit {p.returncode}: {p.stderr!r}"
    one_error(p.stderr, "standard output is closed")


@test
def a_fifo_is_refused_without_blocking():
    with tempfile.TemporaryDirectory() as d:
        fifo = os.path.join(d, "rec.kms")
        os.mkfifo(fifo)
        t0 = time.monotonic()
        rc, _, err = run("report", fifo, timeout=10)
        assert rc not in (0, None), f"exit {rc}"
        one_error(err, "not a regular file")
        assert time.monotonic() - t0 < 5, "report blocked on the FIFO"


@test
def a_junit_path_that_cannot_be_written_fails_before_the_command():
    with tempfile.TemporaryDirectory() as d:
        mark = os.path.join(d, "ran")
        rc, _, err = run("check", "--junit", os.path.join(d, "no", "x.xml"), "--", "touch", mark)
        assert rc == 2, f"exit {rc}: {err!r}"
        one_error(err, "--junit")
        assert not os.path.exists(mark), "the command ran before the path was checked"


@test
def a_junit_symlink_is_replaced_not_followed():
    with tempfile.TemporaryDirectory() as d:
        target, link = os.path.join(d, "target"), os.path.join(d, "x.xml")
        with open(target, "w") as f:
            f.write("secret\n")
        os.symlink(target, link)
        rc, _, err = run("check", "--junit", link, "--", "true", timeout=120)
        assert rc == 0, f"exit {rc}: {err!r}"
        assert open(target).read() == "secret\n", "the symlink's target was overwritten"
        assert not os.path.islink(link) and "<testsuites>" in open(link).read(), \
            "no JUnit report in place of the link"
        assert sorted(os.listdir(d)) == ["target", "x.xml"], f"left behind: {os.listdir(d)}"


@test
def a_junit_write_failure_has_its_own_exit_code():
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8k", "tmpfs", d], check=True)
        try:
            with open(os.path.join(d, "fill"), "wb") as f:
                try:
                    f.write(b"\0" * 65536)
                except OSError:
                    pass
            rc, out, err = run("check", "--junit", os.path.join(d, "x.xml"), "--", "true",
                               timeout=120)
            assert rc == 5, f"exit {rc}: {err!r}"
            one_error(err, "No space left")
            assert "PASS" in out, f"the verdict is still printed: {out!r}"
            assert sorted(os.listdir(d)) == ["fill"], f"left behind: {os.listdir(d)}"
        finally:
            subprocess.run(["umount", d])


@test
def losses_are_said_on_stderr_in_json_mode_too():
    # a 1 MiB ring (half a MiB a CPU) cannot hold a socket loop's burst
    sockets = os.path.join(ROOT, "tests", "live", "workload_sockets.py")
    with tempfile.TemporaryDirectory() as d:
        for cmd in (["record", "-o", os.path.join(d, "r.kms")], ["top"]):
            rc, out, err = run(*cmd, "--json", "--ring-mb", "1", "--", sys.executable, sockets,
                               "20000", timeout=300)
            lost = json.loads(out)["events"]["lost"]
            assert rc == 0 and lost > 0, f"{cmd[0]}: exit {rc}, lost {lost}: {err[-300:]!r}"
            warned = [l for l in err.splitlines() if "events lost" in l]
            assert len(warned) == 1 and str(lost) in warned[0], f"{cmd[0]}: {err[-400:]!r}"


summary()
