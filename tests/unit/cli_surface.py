#!/usr/bin/env python3
"""The command line as a user meets it, no privileges needed: for every command,
what the parser accepts, what --help lists and what bash completion offers are the
same options; and the completion script, driven in bash, offers exactly the
expected candidates. Arguments name the tests to run (default: all)."""
import os
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.environ.get("OUT", "build")
KMS = os.environ.get("KMEMSCOPE", os.path.join(ROOT, OUT, "kmemscope"))
COMPLETION = os.path.join(ROOT, OUT, "completion", "kmemscope")
COMPLETION_ZSH = os.path.join(ROOT, OUT, "completion", "_kmemscope")
sys.path.insert(0, os.path.join(ROOT, "tests"))
from harness import summary, test  # noqa: E402

for _path in (KMS, COMPLETION, COMPLETION_ZSH):
    if not os.path.exists(_path):
        sys.exit(f"cli_surface: {_path} missing (make {OUT}/kmemscope completion)")

# a value each option with one accepts (-p: a process that exists)
SAMPLE = {"-p": str(os.getpid()), "--pid": str(os.getpid()), "--ring-mb": "2",
          "--caller-cache": "on", "--order": "3", "--zone": "Normal", "-o": "/nonexistent/x",
          "--output": "/nonexistent/x", "--junit": "/nonexistent/x", "--max-tracked": "1000",
          "--sort": "bytes", "--user": "root", "--weight": "count"}


def run(*args):
    p = subprocess.run([KMS, *args], capture_output=True, text=True, timeout=30)
    return p.returncode, p.stdout, p.stderr


def listing():
    """kmemscope --list-options: commands, views, and per context its options."""
    rc, out, err = run("--list-options")
    assert rc == 0, f"--list-options: exit {rc} {err!r}"
    cmds, views, opts, takes_value, operands = [], {}, {}, set(), set()
    for line in out.splitlines():
        t = line.split("\t")
        if t[0] == "command":
            cmds.append(t[1])
        elif t[0] == "operand":
            operands.add(t[1])
        elif t[0] == "view":
            views.setdefault(t[1], []).append(t[2])
        elif t[0] == "option":
            names = [n for n in (t[2], t[3]) if n != "-"]
            opts.setdefault(t[1], set()).update(names)
            if t[4] != "-" and t[3] != "--":
                takes_value.update(names)
    return cmds, views, opts, takes_value, operands


def complete(words, cword=None, cwd=None, env=None):
    """The candidates _kmemscope offers for COMP_WORDS=words at cword (default: last)."""
    cword = len(words) - 1 if cword is None else cword
    arr = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    script = (f"source '{COMPLETION}'; COMP_WORDS=({arr}); COMP_CWORD={cword}; "
              "_kmemscope; printf '%s\\n' \"${COMPREPLY[@]}\"")
    p = subprocess.run(["bash", "--norc", "--noprofile", "-c", script], capture_output=True,
                       text=True, timeout=30, cwd=cwd, env=env)
    assert p.returncode == 0, f"{words}: bash exit {p.returncode}: {p.stderr!r}"
    return [x for x in p.stdout.split("\n") if x]


def help_options(cmd):
    """The option words of the OPTIONS section of `kmemscope CMD --help`."""
    rc, out, err = run(cmd, "--help")
    assert rc == 0, f"{cmd} --help: exit {rc}"
    m = re.search(r"\nOPTIONS\n(.*?)\n\n", out, re.S)
    assert m, f"{cmd} --help: no OPTIONS section"
    names = set()
    for line in m.group(1).splitlines():
        if not re.match(r" {2,6}-", line):
            continue	# a wrapped help line
        label = re.split(r"\s{3,}", line.strip())[0]
        names.update(w.rstrip(",") for w in label.split() if w.startswith("-"))
    return names


def accepted(prefix, candidates, takes_value):
    """What the parser takes after PREFIX, one option at a time (the value valid)."""
    took = set()
    for o in candidates:
        if o == "--":	# an operand: nothing after it is kmemscope's
            rc = run(*prefix, "--help", "--", "true")[0]
        else:
            val = [SAMPLE.get(o, "1")] if o in takes_value else []
            rc = run(*prefix, o, *val, "--help")[0]
        assert rc in (0, 2), f"{prefix} {o}: exit {rc}"
        if rc == 0:
            took.add(o)
    return took


@test
def help_completion_and_parser_agree_for_every_command():
    cmds, views, opts, takes_value, operands = listing()
    every = set().union(*opts.values())
    assert {"-d", "--duration", "--caller-cache", "--", "--json"} <= every, sorted(every)
    for cmd in cmds:
        # report's FILE is an operand too, and '--' may come before it: not a COMMAND
        parser = accepted([cmd], every - ({"--"} if cmd in operands else set()), takes_value)
        offered = set(complete(["kmemscope", cmd, "-"]))
        helped = help_options(cmd)
        after_file = set()
        for v in views.get(cmd, []):
            took = accepted([cmd, "x.kms", v], every, takes_value)
            got = set(complete(["kmemscope", cmd, "x.kms", v, "-"]))
            assert took == got, f"{cmd} FILE {v}: parser {sorted(took)}, completion {sorted(got)}"
            after_file |= took
        assert parser == offered, f"{cmd}: parser {sorted(parser)}, completion {sorted(offered)}"
        assert parser | after_file == helped, \
            f"{cmd}: parser {sorted(parser | after_file)}, --help {sorted(helped)}"


@test
def completes_commands_and_their_prefixes():
    cmds = listing()[0]
    assert complete(["kmemscope", ""]) == cmds, complete(["kmemscope", ""])
    assert complete(["kmemscope", "re"]) == ["record", "report"]
    assert "--version" in complete(["kmemscope", "-"])
    # a unique prefix is the command, as kmemscope takes it
    assert complete(["kmemscope", "pro", "--p"]) == ["--pretty"]


@test
def completes_option_values():
    assert complete(["kmemscope", "top", "--caller-cache", ""]) == ["off", "on", "verify"]
    assert complete(["kmemscope", "top", "--caller-cache", "=", "v"]) == ["verify"]
    assert complete(["kmemscope", "top", "-d", ""]) == []
    assert complete(["kmemscope", "leaks", "-p", "1", "--st"]) == ["--stacks"]
    assert complete(["kmemscope", "probes", "-"]) == ["--json", "--pretty", "-v", "--verbose",
                                                      "-h", "--help"]
    # --user: the users of this machine (compgen -u), for every command that runs one
    for cmd in ("top", "leaks", "check", "frag", "record"):
        got = complete(["kmemscope", cmd, "--user", "ro"])
        assert "root" in got, f"{cmd} --user ro: {got}"
    assert "--user" not in complete(["kmemscope", "probes", "--"]), "probes runs no command"


@test
def completes_files_recordings_and_views():
    with tempfile.TemporaryDirectory() as d:
        for name in ("a.kms", "b.kms", "notes.txt"):
            open(os.path.join(d, name), "w").close()
        os.mkdir(os.path.join(d, "sub"))
        got = sorted(complete(["kmemscope", "report", ""], cwd=d))
        assert got == ["a.kms", "b.kms", "sub"], got
        got = sorted(complete(["kmemscope", "top", "-o", ""], cwd=d))
        assert got == ["a.kms", "b.kms", "notes.txt", "sub"], got
        got = sorted(complete(["kmemscope", "check", "--junit", "n"], cwd=d))
        assert got == ["notes.txt"], got
        got = sorted(complete(["kmemscope", "report", "--json", "a"], cwd=d))
        assert got == ["a.kms"], got
    assert complete(["kmemscope", "report", "a.kms", ""]) == ["top", "leaks", "frag", "check", "info"]
    assert complete(["kmemscope", "report", "a.kms", "leaks", "--m"]) == ["--min-age",
                                                                         "--max-tracked"]
    assert complete(["kmemscope", "report", "a.kms", "--f"]) == ["--folded"]	# top's
    assert complete(["kmemscope", "report", "a.kms", "frag", "--st"]) == []
    assert complete(["kmemscope", "report", "a.kms", "top", ""]) == []


@test
def after_dashdash_only_commands():
    with tempfile.TemporaryDirectory() as d:
        exe = os.path.join(d, "zz-kms-probe")
        with open(exe, "w") as f:
            f.write("#!/bin/sh\n")
        os.chmod(exe, 0o755)
        env = {**os.environ, "PATH": d + ":" + os.environ.get("PATH", "")}
        assert complete(["kmemscope", "top", "--", "zz-kms"], env=env) == ["zz-kms-probe"]
        assert complete(["kmemscope", "check", "-n", "3", "--", "zz-kms"], env=env) == \
            ["zz-kms-probe"]
    assert complete(["kmemscope", "top", "--", "ls", "--js"]) == []
    assert complete(["kmemscope", "top", "--", "ls", "-"]) == []


ZSH_STUBS = r"""
compadd() { shift $(( ${@[(i)--]} )); local x; for x; do [[ $x == $PREFIX* ]] && print -r -- $x; done; return 0 }
_files() { print -r -- "<files $*>" }
_users() { print -r -- "<users>" }
_describe() { local x; for x in ${(P)${@[-1]}}; do [[ $x == $PREFIX* ]] && print -r -- ${x%%:*}; done; return 0 }
_normal() { print -r -- "<command line: $words[1,CURRENT]>" }
compset() { PREFIX=${PREFIX#*=} }
"""


def zcomplete(words):
    """What build/completion/_kmemscope offers, its zsh builtins stubbed to print."""
    arr = " ".join("'" + w.replace("'", "'\\''") + "'" for w in words)
    script = (f"{ZSH_STUBS}\nwords=({arr}); CURRENT={len(words)}; PREFIX={arr.split()[-1]}\n"
              f"source '{COMPLETION_ZSH}'")
    p = subprocess.run(["zsh", "-f", "-c", script], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0 and not p.stderr, f"{words}: zsh exit {p.returncode} {p.stderr!r}"
    return [x for x in p.stdout.split("\n") if x]


@test
def zsh_completion_offers_the_same():
    if not shutil.which("zsh"):
        print("(zsh not installed: the zsh completion is not exercised)")
        return
    cmds = listing()[0]
    for words, want in (
            (["kmemscope", ""], cmds),
            (["kmemscope", "re"], ["record", "report"]),
            (["kmemscope", "probes", "-"], ["--json", "--pretty", "-v", "--verbose", "-h",
                                            "--help"]),
            (["kmemscope", "top", "--caller-cache", ""], ["off", "on", "verify"]),
            (["kmemscope", "top", "--caller-cache=v"], ["verify"]),
            (["kmemscope", "top", "-o", ""], ["<files >"]),
            (["kmemscope", "report", ""], ["<files -g *.kms>"]),
            (["kmemscope", "report", "a.kms", ""], ["top", "leaks", "frag", "check", "info"]),
            (["kmemscope", "report", "a.kms", "leaks", "--m"], ["--min-age", "--max-tracked"]),
            (["kmemscope", "report", "a.kms", "--f"], ["--folded"]),
            (["kmemscope", "top", "-d", ""], []),
            (["kmemscope", "check", "--user", ""], ["<users>"]),
            (["kmemscope", "top", "--", "ls", "--js"], ["<command line: ls --js>"])):
        got = zcomplete(words)
        assert got == want, f"{words}: {got}, want {want}"
    for cmd in cmds:
        got, want = set(zcomplete(["kmemscope", cmd, "-"])), set(complete(["kmemscope", cmd,
                                                                            "-"]))
        assert got == want, f"{cmd}: zsh {sorted(got)}, bash {sorted(want)}"


summary()
