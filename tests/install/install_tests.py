#!/usr/bin/env python3
"""Installing kmemscope (no privileges): the man pages render with no warning
and cover every command, the version in its three spellings and its sources,
make install/uninstall under DESTDIR, and a make with nothing new stays quiet.
Run from the repository root; $OUT is the build (default build)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from harness import loads, test, summary  # noqa: E402

OUT = os.environ.get("OUT", "build")
KMS = os.path.join(OUT, "kmemscope")
REQUIRED = ["NAME", "SYNOPSIS", "DESCRIPTION", "EXIT STATUS", "ENVIRONMENT", "FILES",
            "EXAMPLES", "SEE ALSO"]


def run(*cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, **kw)


def make(*targets, **kw):
    r = run("make", "--no-print-directory", "OUT=" + OUT, *targets, **kw)
    assert r.returncode == 0, "make %s: exit %d: %s" % (" ".join(targets), r.returncode,
                                                       (r.stdout + r.stderr)[-600:])
    return r


def commands():
    out = run(KMS, "--help").stdout
    block = out.split("Commands:\n", 1)[1].split("\n\n", 1)[0]
    return [line.split()[0] for line in block.splitlines()]


def pages():
    return ["kmemscope"] + ["kmemscope-" + c for c in commands()]


make("man")


@test
def man_page_per_command():
    names = pages()
    assert len(names) >= 9, names
    for name in names:
        assert os.path.exists(os.path.join(OUT, "man", name + ".8")), "no %s.8" % name
        assert os.path.exists(os.path.join("docs", "man", name + ".in")), \
            "no docs/man/%s.in: every command's page needs one (docs/man/README.md)" % name
    extra = set(f[:-3] for f in os.listdir("docs/man") if f.endswith(".in")) - set(names)
    assert not extra, "docs/man sources of no command: %s" % sorted(extra)


@test
def man_pages_render_without_warnings():
    env = dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8")
    for name in pages():
        page = os.path.join(OUT, "man", name + ".8")
        r = run("man", "--warnings", "-l", page, env=env)
        assert r.returncode == 0 and not r.stderr.strip(), \
            "%s: exit %d: %s" % (page, r.returncode, r.stderr.strip()[:400])
        text = re.sub(r".\x08", "", r.stdout)	# no overstriking
        for section in REQUIRED:
            assert re.search(r"^%s$" % section, text, re.M), "%s: no %s" % (page, section)
        assert max(len(line) for line in text.splitlines()) <= 80, \
            "%s: a line longer than MANWIDTH=80" % page


@test
def man_pages_carry_the_help_options():
    """Each option a command's help lists is in its page's OPTIONS."""
    for cmd in commands():
        helptext = run(KMS, cmd, "--help").stdout
        r = run("man", "-l", os.path.join(OUT, "man", "kmemscope-%s.8" % cmd),
                env=dict(os.environ, MANWIDTH="80", LC_ALL="C.UTF-8"))
        page = re.sub(r".\x08", "", r.stdout)
        for opt in set(re.findall(r"^\s+(--[a-z][a-z-]+)", helptext, re.M)):
            assert opt in page, "kmemscope-%s(8) lacks %s" % (cmd, opt)


def version_lines(*args):
    r = run(KMS, *args)
    assert r.returncode == 0, "kmemscope %s: exit %d %s" % (" ".join(args), r.returncode, r.stderr)
    return r.stdout


@test
def version_three_ways():
    want = run("tools/gen-version", "string").stdout.strip()
    out = version_lines("--version")
    assert out == version_lines("-V") == version_lines("version"), out
    lines = out.splitlines()
    assert lines[0] == "kmemscope " + want, "%r, tools/gen-version says %r" % (lines[0], want)
    assert re.fullmatch(r"libbpf: built with \d+\.\d+, running \d+\.\d+", lines[1]), lines[1]
    assert lines[2].startswith("BPF mechanisms:") and "tracepoint" in lines[2], lines[2]


@test
def version_json():
    for args in (["--version", "--json"], ["version", "--json"], ["-V", "--pretty"]):
        doc = loads(version_lines(*args), "version")
        assert doc["kmemscope_version"] == run("tools/gen-version").stdout.strip(), doc
        assert re.fullmatch(r"\d+\.\d+", doc["libbpf"]["built"]), doc
        assert re.fullmatch(r"\d+\.\d+", doc["libbpf"]["running"]), doc
        assert {"tracepoint", "raw_tp", "tp_btf"} <= set(doc["mechanisms"]), doc
    r = run(KMS, "version", "-d", "1")
    assert r.returncode == 2, "version -d 1: exit %d" % r.returncode


@test
def version_without_git():
    """A source tree without .git: VERSION, else debian/changelog."""
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, "tools"))
        os.makedirs(os.path.join(d, "debian"))
        shutil.copy("tools/gen-version", os.path.join(d, "tools"))
        with open(os.path.join(d, "debian", "changelog"), "w") as f:
            f.write("kmemscope (1.2.3) unstable; urgency=medium\n")
        tool = os.path.join(d, "tools", "gen-version")
        assert run(tool).stdout == "1.2.3\n", run(tool)
        with open(os.path.join(d, "VERSION"), "w") as f:
            f.write("1.2.3-4-gabcdef0\n")
        assert run(tool).stdout == "1.2.3-4-gabcdef0\n", run(tool)
        assert run(tool, "debian").stdout == "1.2.3+git4.gabcdef0\n", run(tool, "debian")
        hdr = os.path.join(d, "v.h")
        run(tool, "header", hdr)
        assert '#define KMS_VERSION_STRING "1.2.3-4-gabcdef0"' in open(hdr).read()
        mtime = os.stat(hdr).st_mtime_ns
        r = run(tool, "header", hdr)
        assert not r.stdout and os.stat(hdr).st_mtime_ns == mtime, "an unchanged header was rewritten"


@test
def debian_versions():
    cases = {"0.2.0-3-gabc1234": "0.2.0+git3.gabc1234", "0.2.0": "0.2.0",
             "0.2.0-3-gabc1234-dirty": "0.2.0+git3.gabc1234+dirty",
             "0.2.0-dirty": "0.2.0+dirty"}
    for v, want in cases.items():
        got = run("tools/gen-version", "debian-of", v).stdout.strip()
        assert got == want, "%s -> %s, want %s" % (v, got, want)
    got = run("tools/gen-version", "debian-of", "798c9be").stdout.strip()
    assert re.fullmatch(r"0\.0~git\d{8}\.798c9be", got), got
    r = run("dpkg", "--compare-versions", "0.0~git20261205.798c9be", "lt", "0.1")
    assert shutil.which("dpkg") is None or r.returncode == 0, "an untagged build sorts above 0.1"


@test
def make_is_incremental():
    make(KMS)
    r = make(KMS)
    assert not r.stdout.strip(), "a second make rebuilt: %s" % r.stdout.strip()


def tree(root):
    return sorted(os.path.relpath(os.path.join(d, f), root)
                  for d, _, files in os.walk(root) for f in files)


@test
def install_destdir_and_uninstall():
    with tempfile.TemporaryDirectory() as d:
        make("install", "DESTDIR=" + d, "PREFIX=/usr")
        want = ["usr/sbin/kmemscope"] + ["usr/share/man/man8/%s.8" % p for p in pages()]
        want += ["usr/share/bash-completion/completions/kmemscope",
                 "usr/share/zsh/vendor-completions/_kmemscope",
                 "usr/lib/systemd/system/kmemscope-agent.service",
                 "usr/share/doc/kmemscope/examples/prometheus.yml"]
        got = tree(d)
        assert got == sorted(want), "installed %s, want %s" % (got, sorted(want))
        assert os.stat(os.path.join(d, "usr/sbin/kmemscope")).st_mode & 0o777 == 0o755
        unit = open(os.path.join(d, "usr/lib/systemd/system/kmemscope-agent.service")).read()
        assert "ExecStart=/usr/sbin/kmemscope agent" in unit, unit
        r = run(os.path.join(d, "usr/sbin/kmemscope"), "--version")
        assert r.returncode == 0 and r.stdout.startswith("kmemscope "), r
        make("uninstall", "DESTDIR=" + d, "PREFIX=/usr")
        assert tree(d) == [], "left after uninstall: %s" % tree(d)


@test
def install_paths_follow_variables():
    with tempfile.TemporaryDirectory() as d:
        dirs = ("sbindir=/opt/k/bin", "mandir=/opt/k/man", "datadir=/opt/k/share",
                "systemdunitdir=/opt/k/systemd")
        make("install", "DESTDIR=" + d, *dirs)
        got = tree(d)
        assert "opt/k/bin/kmemscope" in got and "opt/k/man/man8/kmemscope.8" in got, got
        assert "opt/k/share/bash-completion/completions/kmemscope" in got, got
        assert not [f for f in got if f.startswith("usr/")], got
        make("uninstall", "DESTDIR=" + d, *dirs)
        assert tree(d) == [], tree(d)


summary()
