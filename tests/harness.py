"""The harness of the Python suites (live, faults): @test runs a test where it
is defined and prints one line; summary() prints 'N passed, N failed' and
exits 1 if anything failed. Test names given on the command line run alone.

loads(text, schema) is how a suite reads a JSON document kmemscope printed:
it parses it and validates it against docs/schema/<schema>.schema.json
(docs/json.md), so a renamed, missing or retyped key fails the test."""
import functools
import json
import pathlib
import sys
import traceback

ONLY = set(sys.argv[1:])
results = []


def test(fn):
    if ONLY and fn.__name__ not in ONLY:
        return fn
    try:
        fn()
        results.append((fn.__name__, None))
        print(f"ok   {fn.__name__}")
    except AssertionError as e:	# a bare assert has no message: say where
        where = traceback.extract_tb(e.__traceback__)[-1]
        msg = str(e) or f"line {where.lineno}: {where.line}"
        results.append((fn.__name__, msg))
        print(f"FAIL {fn.__name__}: {msg}")
    except Exception as e:  # a crash of the harness is a failure too
        results.append((fn.__name__, repr(e)))
        print(f"FAIL {fn.__name__}: {e!r}")
    return fn


def summary():
    failed = sum(1 for _, e in results if e)
    print(f"{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)


SCHEMA_DIR = pathlib.Path(__file__).resolve().parent.parent / "docs" / "schema"


@functools.lru_cache(maxsize=None)
def _schemas():
    return {p.name: json.loads(p.read_text()) for p in SCHEMA_DIR.glob("*.schema.json")}


@functools.lru_cache(maxsize=None)
def validator(schema):
    """The draft 2020-12 validator of docs/schema/<schema>.schema.json, its
    references to the other files there resolved locally."""
    try:
        import jsonschema
    except ImportError:
        raise AssertionError("python3-jsonschema is missing (tools/deps all installs it)")
    store = _schemas()
    top = store[schema + ".schema.json"]
    try:
        from referencing import Registry, Resource
    except ImportError:	# jsonschema before 4.18 (Debian 12 has 4.10)
        resolver = jsonschema.RefResolver.from_schema(top, store=store)
        return jsonschema.Draft202012Validator(top, resolver=resolver)
    reg = Registry().with_resources((k, Resource.from_contents(v)) for k, v in store.items())
    return jsonschema.Draft202012Validator(top, registry=reg)


def validate(doc, schema):
    """AssertionError naming every place where doc breaks the schema."""
    errs = sorted(validator(schema).iter_errors(doc), key=lambda e: list(e.absolute_path))
    if errs:
        where = lambda e: "/".join(str(p) for p in e.absolute_path) or "(top)"
        raise AssertionError(f"{schema} document breaks its schema: " +
                             "; ".join(f"{where(e)}: {e.message[:200]}" for e in errs[:5]))
    return doc


def loads(text, schema, error_ok=False):
    """json.loads of a document kmemscope printed, validated against its schema
    ("top", "leaks", "check", "frag", "record", "probes", "report-info",
    "error"). An error document where another was wanted fails with its
    message, unless error_ok (then it is validated as one and returned)."""
    doc = json.loads(text)
    if schema != "error" and isinstance(doc, dict) and "error" in doc:
        validate(doc, "error")
        if error_ok:
            return doc
        raise AssertionError(f"wanted a {schema} document, got an error: {doc['error']}")
    return validate(doc, schema)
