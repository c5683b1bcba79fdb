#!/usr/bin/env python3
"""The live screen of 'kmemscope top', driven in tmux (root, the running kernel):
it fits 80x24 and 200x50, follows a resize, 's' changes the sort, 'q' and
SIGTERM give the terminal back, and a pipe gets no escape codes.
Prints one line per test and 'N passed, N failed'. Arguments name the tests."""
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KMS = os.environ.get("KMEMSCOPE", os.path.join(ROOT, "build", "kmemscope"))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from harness import summary, test  # noqa: E402

ESC = "\x1b"
if shutil.which("tmux") is None:	# exit 4: tests/run counts the suite skipped
    print("tmux missing (tools/deps all)\n0 passed, 0 failed")
    sys.exit(4)


class Tmux:
    """A tmux server of its own (no user configuration), one window."""
    made = 0

    def __init__(self, width, height, command):
        Tmux.made += 1		# a server being killed keeps its socket a while
        self.sock = f"kms-screen-{os.getpid()}-{Tmux.made}"
        self.run("new-session", "-d", "-s", "t", "-x", str(width), "-y", str(height),
                 "sh", "-c", command)

    def run(self, *args):
        p = subprocess.run(["tmux", "-L", self.sock, "-f", "/dev/null", *args],
                           capture_output=True, text=True, timeout=10)
        assert p.returncode == 0, f"tmux {args[0]}: {p.stderr.strip()}"
        return p.stdout

    def lines(self):
        return self.run("capture-pane", "-p", "-t", "t").rstrip("\n").split("\n")

    def text(self):
        return "\n".join(self.lines())

    def alternate(self):
        return self.run("display", "-p", "-t", "t", "#{alternate_on}").strip() == "1"

    def pane_pid(self):
        return int(self.run("display", "-p", "-t", "t", "#{pane_pid}").strip())

    def keys(self, *k):
        self.run("send-keys", "-t", "t", *k)

    def wait(self, pred, timeout, what):
        end = time.monotonic() + timeout
        while True:
            if pred():
                return time.monotonic()
            assert time.monotonic() < end, f"{what} not seen in {timeout} s:\n{self.text()}"
            time.sleep(0.1)

    def close(self):
        subprocess.run(["tmux", "-L", self.sock, "kill-server"], capture_output=True)


def top_in_tmux(width, height, args="top -i 1"):
    """kmemscope in a shell that says afterwards whether the tty modes came
    back (stty -g before and after) and the exit status."""
    cmd = (f"a=$(stty -g); {shlex.quote(KMS)} {args}; rc=$?; b=$(stty -g); "
           f"[ \"$a\" = \"$b\" ] && echo tty-restored; echo kms-exit=$rc; sleep 300")
    return Tmux(width, height, cmd)


def on_screen(t):
    text = t.text()
    return "kmemscope top:" in text and "FAMILY" in text and "CALLER" in text


def assert_fits(t, width, height):
    lines = t.lines()
    assert len(lines) <= height, f"{len(lines)} lines on a {height}-line screen"
    wide = [ln for ln in lines if len(ln) > width]
    assert not wide, f"{len(wide)} lines over {width} columns: {wide[:2]}"
    assert lines[0].startswith("kmemscope top:"), f"title not on the first line: {lines[:3]}"
    assert lines[2].split()[:2] == ["FAMILY", "ALLOCS"], f"column header: {lines[:3]}"


def sort_of(t):
    first = t.lines()[0]
    return first.split("sort: ", 1)[1].split(",")[0] if "sort: " in first else None


def quit_and_check(t):
    t.keys("q")
    sent = time.monotonic()
    seen = t.wait(lambda: "kms-exit=" in t.text(), 5, "the exit")
    assert seen - sent <= 2.0, f"q took {seen - sent:.1f} s"
    text = t.text()
    assert "kms-exit=0" in text, f"exit status:\n{text}"
    assert not t.alternate(), "still on the alternate screen"
    assert "tty-restored" in text, "the terminal modes were not restored"
    assert "FAMILY" in text, f"no final report on the normal screen:\n{text}"


@test
def screen_fits_80x24_sorts_resizes_and_quits():
    t = top_in_tmux(80, 24)
    try:
        t.wait(lambda: on_screen(t) and t.alternate(), 15, "the live screen")
        time.sleep(2.5)		# a tick or two
        assert_fits(t, 80, 24)
        before = sort_of(t)
        assert before == "bytes", f"default sort: {before!r}"
        t.keys("s")
        t.wait(lambda: sort_of(t) not in (None, before), 2, "a new sort after 's'")
        assert_fits(t, 80, 24)
        t.run("resize-window", "-t", "t", "-x", "100", "-y", "30")
        t.wait(lambda: max(len(ln) for ln in t.lines()) > 80 and len(t.lines()) > 24, 3,
               "the screen following the resize to 100x30")
        assert_fits(t, 100, 30)
        quit_and_check(t)
    finally:
        t.close()


@test
def screen_fits_200x50():
    t = top_in_tmux(200, 50)
    try:
        t.wait(lambda: on_screen(t) and t.alternate(), 15, "the live screen")
        time.sleep(2.5)
        assert_fits(t, 200, 50)
        quit_and_check(t)
    finally:
        t.close()


@test
def screen_sigterm_restores_the_terminal():
    t = top_in_tmux(80, 24)
    try:
        t.wait(lambda: on_screen(t) and t.alternate(), 15, "the live screen")
        kids = subprocess.run(["pgrep", "-P", str(t.pane_pid())], capture_output=True,
                              text=True).stdout.split()
        assert len(kids) == 1, f"children of the pane's shell: {kids}"
        os.kill(int(kids[0]), signal.SIGTERM)
        t.wait(lambda: "kms-exit=" in t.text(), 5, "the exit")
        assert not t.alternate(), "still on the alternate screen after SIGTERM"
        assert "tty-restored" in t.text(), "the terminal modes were not restored"
    finally:
        t.close()


@test
def pipe_gets_no_escape_codes():
    out = tempfile.mkdtemp(prefix="kms-screen-")
    try:
        for name, args in (("d", "top -d 2"), ("i", "top -i 1 -d 2.5")):
            f = os.path.join(out, name)
            t = Tmux(80, 24, f"{shlex.quote(KMS)} {args} | cat > {f}; echo kms-exit=$?; "
                     "sleep 300")
            try:
                t.wait(lambda: "kms-exit=" in t.text(), 30, f"'{args} | cat'")
                assert "kms-exit=0" in t.text(), t.text()
            finally:
                t.close()
            text = open(f).read()
            assert ESC not in text, f"'{args} | cat': escape codes in {text[:200]!r}"
            assert text.startswith("kmemscope top:") and "FAMILY" in text, text[:300]
            assert "sort:" not in text, "the pipe's title changed"
    finally:
        shutil.rmtree(out)


summary()
