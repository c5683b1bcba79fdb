#!/usr/bin/env python3
"""The JSON contract without root (docs/json.md): every file in docs/schema is
a valid draft 2020-12 schema; every replay view of the fuzz corpus's
recordings, report FILE info, version and error documents validate against theirs;
a renamed or retyped key fails. Uses $OUT/kmemscope (default build/)."""
import glob
import json
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KMS = os.path.join(ROOT, os.environ.get("OUT", "build"), "kmemscope")
CORPUS = sorted(glob.glob(os.path.join(ROOT, "tests", "fuzz", "recfile", "*.kms")))
sys.path.insert(0, os.path.join(ROOT, "tests"))
from harness import SCHEMA_DIR, loads, summary, test, validate, validator  # noqa: E402


def run(*args):
    p = subprocess.run([KMS, *args], capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


def whole(name):
    """A corpus recording that is not cut short."""
    return next(f for f in CORPUS if os.path.basename(f) == name)


@test
def every_schema_file_is_a_valid_schema():
    names = sorted(os.path.basename(p)[:-len(".schema.json")]
                   for p in glob.glob(str(SCHEMA_DIR / "*.schema.json")))
    for want in ("common", "top", "summary", "leaks", "check", "frag", "record", "probes",
                 "report-info", "error", "version"):
        assert want in names, f"no docs/schema/{want}.schema.json"
    for n in names:
        v = validator(n)
        v.check_schema(v.schema)
        assert v.schema.get("$schema", "").endswith("2020-12/schema"), n


@test
def every_replay_view_of_the_corpus_validates():
    assert CORPUS, "no recordings in tests/fuzz/recfile"
    for f in CORPUS:
        for view, schema in (("top", "top"), ("leaks", "leaks"), ("frag", "frag"),
                             ("info", "report-info")):
            rc, out, err = run("report", f, view, "--json")
            assert rc in (0, 1), f"{os.path.basename(f)} {view}: exit {rc}: {err[-300:]!r}"
            try:
                doc = loads(out, schema, error_ok=rc != 0)
            except AssertionError as e:
                raise AssertionError(f"{os.path.basename(f)} {view}: {e}")
            assert doc["schema_version"] == 1 and doc["kmemscope_version"], doc
            if "error" not in doc and view != "info":
                assert doc["interrupted"] is False, f"{view}: {doc['interrupted']}"


@test
def pretty_and_compact_are_one_document():
    f = whole("pipes.kms")
    rc, a, _ = run("report", f, "top", "--json")
    rc2, b, _ = run("report", f, "top", "--pretty")
    assert rc == rc2 == 0 and json.loads(a) == loads(b, "top"), "--pretty differs"


@test
def gfp_names_stand_next_to_the_number():
    rc, out, err = run("report", whole("pipes.kms"), "top", "--json")
    doc = loads(out, "top")
    rows = [r for r in doc["callers"] if r["gfp"]]
    assert rows, "no row with GFP flags"
    for r in rows:
        assert r["gfp_flags"] and all(n.startswith(("GFP_", "__GFP_", "0x"))
                                      for n in r["gfp_flags"]), r
    assert all(r["gfp_flags"] == [] for r in doc["callers"] if not r["gfp"])


@test
def report_info_numbers_are_numbers():
    rc, out, err = run("report", whole("pipes.kms"), "info", "--json")
    doc = loads(out, "report-info")
    for k in ("page_size", "pageblock_order", "pid_filter", "chunks", "records"):
        assert isinstance(doc[k], int) and not isinstance(doc[k], bool), (k, doc[k])
    assert isinstance(doc["start_realtime"], float) and isinstance(doc["stacks"], bool), doc


@test
def one_counters_block():
    rc, out, err = run("report", whole("pipes.kms"), "leaks", "--json")
    doc = loads(out, "leaks")
    assert "trust" not in doc and "unmatched_frees" not in doc, sorted(doc)
    for k in ("lost", "unmatched_frees", "missed_frees", "recursion_misses", "table_full",
              "bad_records"):
        assert k in doc["events"], k


@test
def usage_errors_are_error_documents():
    for args in (("top", "--json", "-d", "abc"), ("leaks", "--json", "--no-such"),
                 ("report", "/no/such/file", "--json")):
        rc, out, err = run(*args)
        doc = loads(out, "error")
        assert rc == doc["exit_code"] and rc in (1, 2), f"{args}: exit {rc}, {doc}"


@test
def version_documents_validate():
    for args in (("--version", "--json"), ("version", "--json"), ("-V", "--pretty")):
        rc, out, err = run(*args)
        assert rc == 0, f"{args}: exit {rc}: {err[-300:]!r}"
        loads(out, "version")


@test
def a_renamed_or_retyped_key_fails():
    rc, out, err = run("report", whole("pipes.kms"), "top", "--json")
    good = loads(out, "top")
    cases = {
        "top-level key renamed": lambda d: d.__setitem__("duration", d.pop("duration_s")),
        "counter renamed": lambda d: d["events"].__setitem__("trust", d["events"].pop("lost")),
        "number as a string": lambda d: d["events"].__setitem__("seen", "1"),
        "row key renamed": lambda d: d["callers"][0].__setitem__("fn", d["callers"][0].pop("function")),
        "version missing": lambda d: d.pop("schema_version"),
        "interrupted as a name": lambda d: d.__setitem__("interrupted", "SIGINT"),
    }
    for name, change in cases.items():
        d = json.loads(json.dumps(good))
        change(d)
        try:
            validate(d, "top")
        except AssertionError:
            continue
        raise AssertionError(f"{name}: still valid")


summary()
