#!/usr/bin/env python3
"""Faults as users meet them (issue: faults, signals and bad files): commands
that cannot run, processes that do not exist, outputs that cannot be written,
special files given as recordings. Each test asserts the exit code and the
one-line error. Prints one line per test and 'N passed, N failed'."""
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KMS = os.environ.get("KMEMSCOPE", os.path.join(ROOT, "build", "kmemscope"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from harness import loads, summary, test  # noqa: E402


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


def cgroup2_root():
    for line in open("/proc/mounts"):
        w = line.split()
        if w[2] == "cgroup2":
            return w[1]
    return None


def cgroups_of_kmemscope():
    root = cgroup2_root()
    return {d for d in os.listdir(root) if d.startswith("kmemscope.")} if root else set()


def alive(tag):
    """Processes (not zombies) whose command line holds tag."""
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            cmd = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\0", b" ").decode()
            state = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if tag in cmd and state != "Z":
            found.append(pid)
    return found


def interrupt(args, sig, after, wait=30):
    """Start kmemscope, send sig after `after` s; (exit, stdout, stderr, s to exit)."""
    p = subprocess.Popen([KMS, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(after)
    t0 = time.monotonic()
    p.send_signal(sig)
    out, err = p.communicate(timeout=wait)
    return p.returncode, out, err, time.monotonic() - t0


def nothing_left(tag, before):
    for _ in range(50):	# the killed leave within milliseconds
        if not alive(tag) and cgroups_of_kmemscope() == before:
            return
        time.sleep(0.1)
    assert not alive(tag), f"the command outlived kmemscope: {alive(tag)}"
    assert cgroups_of_kmemscope() == before, \
        f"cgroups left: {cgroups_of_kmemscope() - before}"


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


@contextlib.contextmanager
def full_disk(d, size):
    """A tmpfs of size mounted on d and filled (a file "fill"), unmounted after."""
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=" + size, "tmpfs", d], check=True)
    try:
        with open(os.path.join(d, "fill"), "wb") as f:
            try:
                f.write(b"\0" * 65536)
            except OSError:
                pass
        yield d
    finally:
        subprocess.run(["umount", d])


@test
def a_junit_write_failure_has_its_own_exit_code():
    with tempfile.TemporaryDirectory() as t, full_disk(t, "8k") as d:
        rc, out, err = run("check", "--junit", os.path.join(d, "x.xml"), "--", "true",
                           timeout=120)
        assert rc == 5, f"exit {rc}: {err!r}"
        one_error(err, "No space left")
        assert "PASS" in out, f"the verdict is still printed: {out!r}"
        assert sorted(os.listdir(d)) == ["fill"], f"left behind: {os.listdir(d)}"


@test
def an_html_report_replaces_a_symlink_and_fails_alone_on_a_full_disk():
    """--html: a symlink at the path is replaced, not followed; a full disk is
    exit 5 after the report was printed, nothing left behind."""
    with tempfile.TemporaryDirectory() as d:
        rec = os.path.join(d, "r.kms")
        rc, _, err = run("record", "-o", rec, "-d", "0.3", timeout=120)
        assert rc == 0, err
        target, link = os.path.join(d, "target"), os.path.join(d, "x.html")
        with open(target, "w") as f:
            f.write("secret\n")
        os.symlink(target, link)
        rc, _, err = run("report", rec, "leaks", "--html", link, timeout=120)
        assert rc == 0, f"exit {rc}: {err!r}"
        assert open(target).read() == "secret\n", "the symlink's target was overwritten"
        assert not os.path.islink(link) and "<!DOCTYPE html>" in open(link).read()
        os.mkdir(os.path.join(d, "full"))
        with full_disk(os.path.join(d, "full"), "64k") as full:
            rc, out, err = run("report", rec, "--html", os.path.join(full, "x.html"),
                               timeout=120)
            assert rc == 5, f"exit {rc}: {err!r}"
            one_error(err, "No space left")
            assert "CALLER" in out, f"the report is still printed: {out[:200]!r}"
            assert sorted(os.listdir(full)) == ["fill"], f"left behind: {os.listdir(full)}"


@test
def losses_are_said_on_stderr_in_json_mode_too():
    # a 1 MiB ring (half a MiB a CPU) cannot hold a socket loop's burst
    sockets = os.path.join(ROOT, "tests", "live", "workload_sockets.py")
    with tempfile.TemporaryDirectory() as d:
        for cmd in (["record", "-o", os.path.join(d, "r.kms")], ["top"]):
            rc, out, err = run(*cmd, "--json", "--ring-mb", "1", "--", sys.executable, sockets,
                               "20000", timeout=300)
            lost = loads(out, cmd[0])["events"]["lost"]
            assert rc == 0 and lost > 0, f"{cmd[0]}: exit {rc}, lost {lost}: {err[-300:]!r}"
            warned = [l for l in err.splitlines() if "events lost" in l]
            assert len(warned) == 1 and str(lost) in warned[0], f"{cmd[0]}: {err[-400:]!r}"


@test
def an_interrupted_check_gives_no_verdict():
    before = cgroups_of_kmemscope()
    rc, out, err, _ = interrupt(["check", "--", "sleep", "41.5"], signal.SIGINT, 2)
    assert rc == 128 + signal.SIGINT, f"exit {rc}: {err[-300:]!r}"
    assert "INTERRUPTED (SIGINT): no verdict" in out and "LEAK:" not in out and \
        "PASS:" not in out, out[-400:]
    nothing_left("sleep 41.5", before)
    rc, out, err, _ = interrupt(["check", "--json", "--", "sleep", "41.6"], signal.SIGTERM, 2)
    doc = loads(out, "check")
    assert rc == 128 + signal.SIGTERM and doc["passed"] is None and \
        doc["interrupted"] is True and doc["signal"] == "SIGTERM", f"exit {rc}: {out[:300]!r}"
    nothing_left("sleep 41.6", before)


@test
def an_interrupted_run_says_so_in_its_json():
    """top, leaks and frag print what they have when a signal cuts the run
    short; the document says "interrupted": true (docs/json.md)."""
    for cmd in ("top", "leaks", "frag"):
        rc, out, err, _ = interrupt([cmd, "--json", "-d", "30", "--", "sleep", "41.7"],
                                    signal.SIGINT, 3)
        doc = loads(out, cmd)
        assert doc["interrupted"] is True and doc["duration_s"] < 20, \
            f"{cmd}: exit {rc}, interrupted {doc['interrupted']}: {err[-300:]!r}"
    rc, out, err = run("top", "--json", "-d", "0.5")
    assert rc == 0 and loads(out, "top")["interrupted"] is False, f"exit {rc}: {err[-300:]!r}"


@test
def every_signal_that_ends_a_run_leaves_nothing_behind():
    before = cgroups_of_kmemscope()
    for i, sig in enumerate((signal.SIGINT, signal.SIGTERM, signal.SIGHUP, signal.SIGPIPE)):
        for after in (0.1, 2):	# while loading the programs, and while tracing
            tag = f"sleep 42.{i}{int(after * 10)}"
            rc, _, err, took = interrupt(["leaks", "--", "sleep", tag.split()[1]], sig, after)
            assert rc is not None and took < 10, f"{sig!r} after {after}s: exit {rc}, {took:.1f}s"
            assert "Traceback" not in err and "Sanitizer" not in err, err[-300:]
            nothing_left(tag, before)


@test
def a_command_that_ignores_sigterm_is_killed_after_a_grace():
    before = cgroups_of_kmemscope()
    rc, _, err, took = interrupt(["check", "--", "sh", "-c", "trap '' TERM; sleep 43"],
                                 signal.SIGINT, 2)
    assert rc == 128 + signal.SIGINT and took < 6, f"exit {rc} after {took:.1f}s: {err[-200:]!r}"
    nothing_left("sleep 43", before)


@test
def a_killed_kmemscope_takes_its_command_along_and_its_cgroup_is_swept():
    before = cgroups_of_kmemscope()
    rc, _, _, _ = interrupt(["leaks", "--", "sleep", "44"], signal.SIGKILL, 2)
    assert rc == -signal.SIGKILL, f"exit {rc}"
    for _ in range(50):
        if not alive("sleep 44"):
            break
        time.sleep(0.1)
    assert not alive("sleep 44"), "the command outlived a SIGKILLed kmemscope"
    rc, _, err = run("leaks", "--settle", "0.2", "--", "true")
    assert rc == 0, f"exit {rc}: {err[-200:]!r}"
    assert cgroups_of_kmemscope() == before, f"not swept: {cgroups_of_kmemscope() - before}"


@test
def a_killed_kmemscope_takes_a_command_run_as_another_user_along():
    """The change of user clears PR_SET_PDEATHSIG: it is set again after it."""
    before = cgroups_of_kmemscope()
    rc, _, _, _ = interrupt(["leaks", "--user", "nobody", "--", "sleep", "44.5"],
                            signal.SIGKILL, 2)
    assert rc == -signal.SIGKILL, f"exit {rc}"
    for _ in range(50):
        if not alive("sleep 44.5"):
            break
        time.sleep(0.1)
    assert not alive("sleep 44.5"), "the command (as nobody) outlived a SIGKILLed kmemscope"
    rc, _, err = run("leaks", "--settle", "0.2", "--", "true")
    assert rc == 0 and cgroups_of_kmemscope() == before, f"exit {rc}, not swept: {err[-200:]!r}"


@test
def a_recording_is_never_put_over_a_dangling_symlink_or_a_cut_one():
    with tempfile.TemporaryDirectory() as d:
        link, cut = os.path.join(d, "link.kms"), os.path.join(d, "cut.kms")
        os.symlink(os.path.join(d, "nowhere"), link)
        open(cut + ".tmp", "w").write("a recording cut short")
        t0 = time.monotonic()
        rc, _, err = run("record", "-o", link, "-d", "0.5")
        assert rc == 1 and time.monotonic() - t0 < 5, f"exit {rc}: {err!r}"
        one_error(err, "exists")
        rc, _, err = run("record", "-o", cut, "-d", "0.5")
        assert rc == 1, f"exit {rc}: {err!r}"
        one_error(err, "cut.kms.tmp exists")
        assert open(cut + ".tmp").read() == "a recording cut short", "the cut one was touched"


@test
def a_full_disk_keeps_the_recording_made_so_far():
    sockets = os.path.join(ROOT, "tests", "live", "workload_sockets.py")
    # 1 MiB: the start of a recording (the page picture) takes 0.3 MB on a busy machine,
    # the whole run about 2.2 MB
    with tempfile.TemporaryDirectory() as d:
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", d], check=True)
        try:
            rec = os.path.join(d, "r.kms")
            rc, _, err = run("record", "-o", rec, "--", sys.executable, sockets, "20000",
                             timeout=300)
            assert rc == 1, f"exit {rc}: {err[-300:]!r}"
            assert "No space left" in err and f"{rec} holds the first" in err, err[-400:]
            assert os.listdir(d) == ["r.kms"], f"files: {os.listdir(d)}"
            rc, out, err = run("report", rec, "top", "--json")
            assert rc == 0 and loads(out, "top")["callers"], f"report: exit {rc}: {err[-300:]!r}"
            assert "truncated" in err, f"the report does not say it is cut: {err!r}"
            os.unlink(rec)
            # top -o: the recording stops, the live report does not
            rc, out, err = run("top", "--json", "-o", rec, "--", sys.executable, sockets,
                               "20000", timeout=300)
            doc = loads(out, "top")
            assert rc == 1 and doc["callers"] and not doc["recording"]["complete"], \
                f"top -o on a full disk: exit {rc}, {doc.get('recording')}: {err[-300:]!r}"
            assert "recording stops here, tracing goes on" in err and \
                f"{rec} holds the first" in err, err[-400:]
        finally:
            subprocess.run(["umount", d])


@test
def what_a_command_leaves_running_is_process_not_leak():
    def left_running(*args):
        try:
            rc, out, err = run(*args, "--json", "--", "sh", "-c", "sleep 45 >/dev/null 2>&1 &",
                               timeout=120)
        finally:
            subprocess.run(["pkill", "-f", "sleep 45"])
        return rc, loads(out, args[0]), err

    rc, doc, err = left_running("check")
    leaks = [f"{r['family']}/{r['caller']} x{r['count']}" for r in doc["outstanding"]
             if r["class"] == "leak"]
    assert rc == 0 and doc["passed"] and doc["leftover_processes"] == 1, \
        f"exit {rc}, leak rows: {leaks}: {err[-300:]!r}"
    fork = [r for r in doc["outstanding"] if r["family"] == "kmem_cache" and
            r["function"] in ("copy_process", "dup_fd")]	# task_struct, files_cache, ...
    assert fork and all(r["class"] == "process" for r in fork), fork
    with tempfile.TemporaryDirectory() as d:
        rec = os.path.join(d, "r.kms")
        rc, doc, err = left_running("leaks", "-o", rec)
        assert rc == 0, f"exit {rc}: {err[-300:]!r}"
        rc, again, err = run("report", rec, "leaks", "--json")
        assert rc == 0 and loads(again, "leaks")["outstanding"] == doc["outstanding"], \
            f"the replay differs: exit {rc}: {err[-300:]!r}"
        assert any(r["still_running"] for r in doc["outstanding"]), "nothing still running"


@test
def a_damaged_recording_is_read_past_the_damage_and_says_so():
    sockets = os.path.join(ROOT, "tests", "live", "workload_sockets.py")
    with tempfile.TemporaryDirectory() as d:
        good, bad = os.path.join(d, "good.kms"), os.path.join(d, "bad.kms")
        rc, _, err = run("record", "-o", good, "--", sys.executable, sockets, "20000",
                         timeout=300)
        assert rc == 0, f"record: exit {rc}: {err[-300:]!r}"
        data = bytearray(open(good, "rb").read())
        data[len(data) // 2] ^= 0xff	# one flipped byte in the middle
        open(bad, "wb").write(bytes(data))
        docs = {}
        for name, path in (("good", good), ("bad", bad)):
            rc, out, err = run("report", path, "top", "--json")
            assert rc == 0, f"{name}: exit {rc}: {err[-300:]!r}"
            docs[name] = loads(out, "top")
        rec = docs["bad"]["recording"]
        assert docs["good"]["recording"] == {"complete": True, "damaged_frames": 0,
                                             "bytes_skipped": 0}, docs["good"]["recording"]
        assert not rec["complete"] and rec["damaged_frames"] == 1 and rec["bytes_skipped"] > 0, rec
        allocs = {k: sum(r["allocs"] for r in v["callers"]) for k, v in docs.items()}
        assert 0.5 * allocs["good"] < allocs["bad"] < allocs["good"], \
            f"frames after the damage were not read: {allocs}"
        assert "damaged frame(s) skipped" in err and "no trailer" not in err, err[-300:]


summary()
