"""The harness of the Python suites (live, faults): @test runs a test where it
is defined and prints one line; summary() prints 'N passed, N failed' and
exits 1 if anything failed. Test names given on the command line run alone."""
import sys

ONLY = set(sys.argv[1:])
results = []


def test(fn):
    if ONLY and fn.__name__ not in ONLY:
        return fn
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


def summary():
    failed = sum(1 for _, e in results if e)
    print(f"{len(results) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
