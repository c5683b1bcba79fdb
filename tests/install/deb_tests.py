#!/usr/bin/env python3
"""The Debian package (root, dpkg): make deb builds it, lintian finds no
error, dpkg -i installs a working kmemscope with its man pages (and the
completion files), dpkg -r takes every file away.
tests/run runs it only as root with dpkg-buildpackage and debhelper present."""
import os
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import test, summary  # noqa: E402

OUT = os.environ.get("OUT", "build")
BIN = "/usr/sbin/kmemscope"


def run(*cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def installed():
    r = run("dpkg-query", "-W", "-f=${Status}", "kmemscope")
    return r.returncode == 0 and "ok installed" in r.stdout


debver = run("tools/gen-version", "debian").stdout.strip()
arch = run("dpkg-architecture", "-qDEB_HOST_ARCH").stdout.strip()
DEB = os.path.join(OUT, "kmemscope_%s_%s.deb" % (debver, arch))
state = {}


@test
def deb_builds():
    if os.path.exists(DEB):
        os.unlink(DEB)
    r = run("make", "--no-print-directory", "OUT=" + OUT, "deb")
    assert r.returncode == 0, "make deb: exit %d: %s" % (r.returncode, (r.stdout + r.stderr)[-800:])
    assert os.path.exists(DEB), "no %s after make deb" % DEB
    files = run("dpkg-deb", "-c", DEB).stdout
    for path in ("./usr/sbin/kmemscope", "./usr/share/man/man8/kmemscope.8.gz",
                 "./usr/share/man/man8/kmemscope-leaks.8.gz",
                 "./lib/systemd/system/kmemscope-agent.service",
                 "./usr/share/doc/kmemscope/examples/prometheus.yml"):
        assert path in files, "%s not in the package" % path
    state["built"] = True


@test
def deb_lintian_clean():
    if not shutil.which("lintian"):
        print("     (no lintian: tools/deps deb installs it)")
        return
    assert state.get("built"), "no package"
    r = run("lintian", "--fail-on", "error", "--no-tag-display-limit", DEB)
    tags = [line for line in r.stdout.splitlines() if re.match(r"[EWIPX]: ", line)]
    for line in tags:
        print("     lintian: " + line)
    assert r.returncode == 0, "lintian errors: %s" % [t for t in tags if t.startswith("E:")]


def dpkg(*args):
    """dpkg, waiting up to a minute for another dpkg or apt (apt-daily, a second
    checkout's suite) to let go of its lock."""
    for _ in range(60):
        r = run("dpkg", *args)
        if r.returncode == 0 or "lock" not in r.stderr:
            return r
        time.sleep(1)
    return r


@test
def deb_installs_and_removes():
    assert state.get("built"), "no package"
    if installed():
        print("     (kmemscope is installed here: the test leaves it alone)")
        return
    r = dpkg("-i", DEB)
    assert r.returncode == 0, "dpkg -i: %s" % r.stderr[-400:]
    try:
        files = [f for f in run("dpkg", "-L", "kmemscope").stdout.splitlines()
                 if os.path.isfile(f)]
        v = run(BIN, "--version")
        want = run("tools/gen-version").stdout.strip()
        assert v.returncode == 0 and v.stdout.startswith("kmemscope %s\n" % want), v
        p = run(BIN, "probes")
        # 1: a family without a hook on this kernel; anything else is broken
        assert p.returncode in (0, 1) and "FAMILY" in p.stdout, \
            "probes: exit %d: %s" % (p.returncode, (p.stdout + p.stderr)[-400:])
        for page in ("kmemscope", "kmemscope-leaks"):
            m = run("man", "-w", page)
            assert m.returncode == 0 and m.stdout.startswith("/usr/share/man/man8/"), \
                "man -w %s: %s" % (page, m.stdout + m.stderr)
        for comp in ("/usr/share/bash-completion/completions/kmemscope",
                     "/usr/share/zsh/vendor-completions/_kmemscope"):
            assert os.path.isfile(comp), "no %s" % comp
        # and bash completes with it, as a user's shell does
        p = run("bash", "-c", "source /usr/share/bash-completion/completions/kmemscope; "
                "COMP_WORDS=(kmemscope lea); COMP_CWORD=1; _kmemscope; "
                "printf '%s\\n' \"${COMPREPLY[@]}\"")
        assert p.stdout.split() == ["leaks"], "completion of 'lea': %r" % p.stdout
    finally:
        r = dpkg("-r", "kmemscope")
    assert r.returncode == 0, "dpkg -r: %s" % r.stderr[-400:]
    left = [f for f in files if os.path.exists(f)]
    assert not left, "left after dpkg -r: %s" % left
    assert not installed()


summary()
