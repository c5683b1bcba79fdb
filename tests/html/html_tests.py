#!/usr/bin/env python3
"""The HTML report (--html) in a real browser: Debian's chromium, headless,
loads each generated report (from recordings of known workloads, and the
live commands' own) and the tests read its DOM through the DevTools protocol
(cdp.py): one map cell per page block, the legend's blockers with the model's
exact counts, flame graph frames equal to the --folded lines, no console
error, no request but the file itself. Screenshots are kept in
$OUT/tests/html/ as artefacts. Needs root (it traces); exit 4 without chromium.
Arguments name the tests to run (default: all)."""
import collections
import glob
import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
OUT = os.path.join(ROOT, os.environ.get("OUT", "build"))
KMS = os.environ.get("KMEMSCOPE", os.path.join(OUT, "kmemscope"))
PIPES = os.path.join(ROOT, "tests", "live", "workload_pipes.py")
ART = os.path.join(OUT, "tests", "html")
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "html"))
from harness import loads, summary, test  # noqa: E402
import cdp  # noqa: E402

MAX_BYTES = 5 << 20


def run(*args, timeout=180):
    p = subprocess.run([KMS, *args], capture_output=True, text=True, timeout=timeout)
    return p.returncode, p.stdout, p.stderr


def ok(*args, timeout=180):
    rc, out, err = run(*args, timeout=timeout)
    assert rc == 0, f"{' '.join(args[:3])}: exit {rc}: {err.strip()[-400:]}"
    return out


def art(name):
    os.makedirs(ART, exist_ok=True)
    p = os.path.join(ART, name)
    if os.path.exists(p):
        os.unlink(p)
    return p


if not cdp.chromium():
    print("html: skipped (no chromium: tools/deps all installs it)")
    print("0 passed, 0 failed, 1 skipped")
    sys.exit(4)
if os.geteuid() != 0:
    print("html: skipped (needs root: the reports come from traced workloads)")
    print("0 passed, 0 failed, 1 skipped")
    sys.exit(4)

# ---- the recordings and reports, made once ----
N_PIPES = 2000
FRAG_REC, FRAG_LIVE_HTML = art("frag.kms"), art("frag-live.html")
# the holder keeps its pipes' pages past the command's end: they block blocks
ok("frag", "-i", "0.5", "-o", FRAG_REC, "--html", FRAG_LIVE_HTML, "--", "sh", "-c",
   f"{sys.executable} {PIPES} {N_PIPES} 4 & sleep 2")
PIPES_REC = art("pipes.kms")
ok("record", "--stacks", "-o", PIPES_REC, "--", "sh", "-c",
   f"{sys.executable} {PIPES} 300 4 & sleep 2")
REPORTS = {
    "frag": (FRAG_REC, ["frag", "-i", "0.5"]),
    "top": (PIPES_REC, []),
    "leaks": (PIPES_REC, ["leaks", "--settle", "0"]),
}
HTML = {}
for name, (rec, view) in REPORTS.items():
    HTML[name] = art(f"report-{name}.html")
    ok("report", rec, *view, "--html", HTML[name])

BROWSER = cdp.Browser()
PAGE = BROWSER.page()


def load(path):
    PAGE.load(path)
    assert not PAGE.errors, f"{os.path.basename(path)}: {PAGE.errors}"
    url = "file://" + os.path.abspath(path)
    others = [u for u in PAGE.requests if u != url and not u.startswith("data:")]
    assert not others, f"{os.path.basename(path)} asked the network: {others[:3]}"
    return PAGE


# ---- the page-block map ----

def frag_json(rec):
    return loads(ok("report", rec, "frag", "--json"), "frag")


@test
def map_has_one_cell_per_page_block():
    doc = frag_json(FRAG_REC)
    p = load(HTML["frag"])
    zones = p.js("""Array.from(document.querySelectorAll('figure.zone[data-blocks]')).map(f => ({
        zone: f.dataset.zone, blocks: Number(f.dataset.blocks),
        pfns: Array.from(f.querySelectorAll('rect')).map(r => Number(r.dataset.pfn))}))""")
    assert [z["zone"] for z in zones] == [z["zone"] for z in doc["zones"]], zones
    T = doc["target_order"]
    for z in zones:
        assert len(z["pfns"]) == z["blocks"], f"{z['zone']}: {len(z['pfns'])} cells"
        assert all(b - a == 1 << T for a, b in zip(z["pfns"], z["pfns"][1:])), z["zone"]
        assert all(pfn % (1 << T) == 0 for pfn in z["pfns"]), z["zone"]
    assert sum(z["blocks"] for z in zones) == doc["blocks"]["total"], doc["blocks"]
    states = p.js("""(() => { const c = {free: 0, h: 0, s: 0};
        for (const r of document.querySelectorAll('svg.map rect')) {
            if (!r.getAttribute('class')) c.free++;
            if (r.classList.contains('h')) c.h++;
            if (r.classList.contains('s')) c.s++; }
        return c; })()""")
    b = doc["blocks"]
    assert states["free"] == b["free"] and states["h"] == b["not_managed"], (states, b)
    # a block has at most one sole blocker: outlined cells are the rows' sole counts
    assert states["s"] == sum(r["sole_blocker_blocks"] for r in doc["attribution"]), states


@test
def map_legend_names_the_blockers_with_their_exact_counts():
    doc = frag_json(FRAG_REC)
    p = load(HTML["frag"])
    legend = p.js("""Array.from(document.querySelectorAll('table.legend tr.row')).map(r => ({
        fn: r.querySelector('.fn').textContent, caller: r.querySelector('.caller').textContent,
        blocked: Number(r.querySelector('.blocked').textContent),
        sole: Number(r.querySelector('.sole').textContent),
        live: Number(r.querySelector('.live').textContent)}))""")
    want = [r for r in doc["attribution"] if r["blocked_blocks"]]
    got = {(x["fn"], x["blocked"], x["sole"], x["live"]) for x in legend}
    for r in want:
        assert (r["function"], r["blocked_blocks"], r["sole_blocker_blocks"], r["live_pages"]) \
            in got, f"{r['function']} not in the legend as in the model: {r}"
    assert len(legend) == len(want), (len(legend), len(want))
    # the held pipes: their pages are still out when the run ends
    pipe = [x for x in legend if x["fn"] in ("anon_pipe_write", "pipe_write")]
    assert pipe and sum(x["live"] for x in pipe) >= N_PIPES and pipe[0]["blocked"] > 0, pipe


@test
def map_cell_hover_says_pfns_free_pages_and_owners():
    p = load(HTML["frag"])
    said = p.js("""(() => { const r = document.querySelector('svg.map rect[data-o]:not(.h)');
        r.dispatchEvent(new MouseEvent('mouseover', {bubbles: true, clientX: 5, clientY: 5}));
        return [r.dataset.pfn, r.dataset.free, document.getElementById('cell').textContent,
                document.getElementById('tip').style.display]; })()""")
    pfn, free, text, tip = said
    assert text.startswith(f"pfn {pfn}\u2013") and f"{free} of " in text, said
    assert "owners: " in text and tip == "block", said


@test
def map_slider_shows_each_tick():
    """frag -i: a frame of the map per tick (the JSON timeline's), the slider
    recolours the cells and its last position is the end again."""
    doc = loads(ok("report", FRAG_REC, "frag", "--json", "-i", "0.5"), "frag")
    p = load(HTML["frag"])
    got = p.js("""(() => { const sec = document.getElementById('map');
        const range = sec.querySelector('input[type=range]');
        const cells = Array.from(sec.querySelectorAll('svg.map rect'));
        const cls = () => cells.map(r => r.getAttribute('class') || '');
        const end = cls(), frames = [];
        for (let k = 0; k < Number(range.max); k++) {
            range.value = k; range.dispatchEvent(new Event('input'));
            frames.push(cls());
        }
        range.value = range.max; range.dispatchEvent(new Event('input'));
        return {n: cells.length, max: Number(range.max), back: cls().join() === end.join(),
                sizes: frames.map(f => f.length),
                free: frames.map(f => f.filter(c => c === '').length),
                endFree: end.filter(c => c === '').length}; })()""")
    tl = [e["t"] for e in doc["timeline"]]
    assert got["max"] == len(tl) and len(tl) >= 3, (got["max"], tl)
    assert set(got["sizes"]) == {got["n"]} and got["back"], got
    assert got["endFree"] == doc["blocks"]["free"], (got["endFree"], doc["blocks"])
    assert all(f > 0 for f in got["free"]), got["free"]


@test
def zones_timeline_has_model_and_buddyinfo_per_order():
    """frag -i: free blocks per order per zone at each tick, the model's and
    /proc/buddyinfo's, drawn as a line each (the JSON timeline's ticks)."""
    doc = loads(ok("report", FRAG_REC, "frag", "--json", "-i", "0.5"), "frag")
    p = load(HTML["frag"])
    ticks = p.js("JSON.parse(document.getElementById('kms-data').textContent).zone_ticks")
    assert [round(t["t"], 3) for t in ticks] == [round(e["t"], 3) for e in doc["timeline"]]
    orders = len(doc["zones"][0]["free_blocks"])
    for t in ticks:
        assert len(t["zones"]) == len(doc["zones"]), t
        assert all(len(z["model"]) == len(z["buddyinfo"]) == orders for z in t["zones"]), t
    lines = p.js("document.querySelectorAll('#zones polyline').length")
    assert lines == len(doc["zones"]) * (2 * orders + 1), lines	# + the divergence's


@test
def live_frag_html_is_the_same_map():
    live, rep = load(FRAG_LIVE_HTML), None
    cells = live.js("document.querySelectorAll('svg.map rect').length")
    assert cells == frag_json(FRAG_REC)["blocks"]["total"], cells
    live.screenshot(art("frag-map.png"))
    rep = load(HTML["frag"])
    assert rep.js("document.querySelectorAll('svg.map rect').length") == cells


@test
def report_without_a_view_draws_the_map_and_the_flame_graphs():
    """report FILE --html: frag's map and top's flame graphs in one document,
    top's table on stdout as without --html."""
    doc = frag_json(PIPES_REC)
    p = load(HTML["top"])
    got = p.js("""[document.querySelectorAll('svg.map rect').length,
        Array.from(document.querySelectorAll('main > section')).map(s => s.id)]""")
    assert got[0] == doc["blocks"]["total"], (got[0], doc["blocks"])
    for sec in ("map", "zones", "flame_allocs", "flame_live", "trust"):
        assert sec in got[1], got[1]
    out = ok("report", PIPES_REC, "--html", art("again.html"))
    assert out == ok("report", PIPES_REC), "top's text differs with --html"


# recordings the kernel matrix brought back: frag of the test module's
# workloads in a guest (tests/vm: frag_held; app_leak 32; driver_trim 4 10 600)
GUEST = sorted(glob.glob(os.path.join(OUT, "vm", "*", "results", "frag_held.kms")))
DRIVER_TRIM_BLOCKS = 4 * -(-600 // 512)	# driver_trim N=4 S=600 at order 9: 8


@test
def guest_module_blocking_functions_in_the_legend():
    """The module's blockers, at order 9, in the legend with the exact counts
    of the guest's model (tests/vm/README.md: tracer.frag.driver_trim)."""
    if not GUEST:
        print("  (no guest recording: make vm-test KERNELS=6.12 brings one back)")
    for rec in GUEST:
        doc = loads(ok("report", rec, "frag", "--json", "--order", "9"), "frag")
        h = art("guest-" + rec.split(os.sep)[-3] + ".html")
        ok("report", rec, "frag", "--order", "9", "--html", h)
        p = load(h)
        legend = {r["fn"]: (r["blocked"], r["sole"], r["live"]) for r in p.js("""
            Array.from(document.querySelectorAll('table.legend tr.row')).map(r => ({
                fn: r.querySelector('.fn').textContent,
                blocked: Number(r.querySelector('.blocked').textContent),
                sole: Number(r.querySelector('.sole').textContent),
                live: Number(r.querySelector('.live').textContent)}))""")}
        want = (DRIVER_TRIM_BLOCKS, DRIVER_TRIM_BLOCKS, 4 * 600)
        assert legend.get("kmst_driver_trim") == want, (legend.get("kmst_driver_trim"), want)
        leak = [r for r in doc["attribution"] if r["function"] == "kmst_app_leak"]
        assert leak and legend.get("kmst_app_leak") == tuple(
            leak[0][k] for k in ("blocked_blocks", "sole_blocker_blocks", "live_pages")), \
            (leak, legend.get("kmst_app_leak"))
        assert legend["kmst_app_leak"][2] == 32, legend["kmst_app_leak"]
        cells = p.js("document.querySelectorAll('svg.map rect').length")
        assert cells == doc["blocks"]["total"], (cells, doc["blocks"])
        p.screenshot(art("guest-" + rec.split(os.sep)[-3] + ".png"))


# ---- flame graphs ----

def prefix_sums(lines):
    """{(frame, ...): weight} for every prefix of every folded line."""
    tot = collections.Counter()
    for line in lines.splitlines():
        stack, _, w = line.rpartition(" ")
        fr = tuple(stack.split(";"))
        for i in range(1, len(fr) + 1):
            tot[fr[:i]] += int(w)
    return tot


def drawn(page, key):
    """The flame graph's frames, rebuilt from the DOM (preorder, depth-tagged)."""
    frames = page.js(f"""Array.from(document.querySelectorAll('#{key} g.fr')).map(g =>
        [Number(g.dataset.d), g.dataset.n, Number(g.dataset.v)])""")
    tot, stack = collections.Counter(), []
    for d, n, v in frames:
        stack[d:] = [n]
        if d:
            tot[tuple(stack[1:])] += v
    return tot


def flame_equals_folded(html, key, folded_args):
    p = load(html)
    for w in ("bytes", "count"):
        if w == "count":
            p.js(f"document.querySelector('#{key} button[data-w=count]').click()")
        assert p.js(f"document.getElementById('{key}').dataset.shown") == w
        want = prefix_sums(ok(*folded_args, "--weight", w))
        got = drawn(p, key)
        assert want, f"{key}: no --folded lines"
        assert got == want, (f"{key} {w}: frames differ: only drawn "
                             f"{sorted(set(got.items()) - set(want.items()))[:3]}, only folded "
                             f"{sorted(set(want.items()) - set(got.items()))[:3]}")
    return p


@test
def top_flame_frames_equal_the_folded_lines():
    p = flame_equals_folded(HTML["top"], "flame_allocs", ["report", PIPES_REC, "--folded"])
    p.js("document.querySelector('#flame_allocs button[data-w=bytes]').click()")
    p.screenshot(art("top-flame.png"))


@test
def leaks_flame_frames_equal_the_folded_lines():
    flame_equals_folded(HTML["leaks"], "flame_leaks",
                        ["report", PIPES_REC, "leaks", "--settle", "0", "--folded"])


@test
def flame_search_marks_the_matching_frames():
    p = load(HTML["top"])
    got = p.js("""(() => { const s = document.querySelector('#flame_allocs input[type=search]');
        s.value = 'pipe_write$'; s.dispatchEvent(new Event('input'));
        return [document.querySelectorAll('#flame_allocs g.fr.match').length,
                document.querySelector('#flame_allocs .status').textContent]; })()""")
    assert got[0] > 0 and got[1].startswith("matched "), got


# ---- timelines ----
GROW = """
import os, sys, time
fds = []
for _ in range(16):	# still rising when the window (2.6 s) ends
    fds += [os.eventfd(0) for _ in range(200)]
    time.sleep(0.25)
time.sleep(float(sys.argv[1]))
"""


@test
def leaks_timeline_shows_the_growing_call_site():
    rec, h = art("grow.kms"), art("grow-live.html")
    ok("leaks", "-i", "0.3", "--settle", "0.3", "-o", rec, "--html", h, "--", "sh", "-c",
       f"{sys.executable} -c '{GROW}' 3 & sleep 2.6")
    doc = loads(ok("report", rec, "leaks", "--json", "-i", "0.3", "--settle", "0.3"), "leaks")
    want = [r for r in doc["outstanding"] if r["function"] == "do_eventfd"]
    assert want and want[0]["growing"] and want[0]["count"] >= 1000, want
    rep = art("grow-report.html")
    ok("report", rec, "leaks", "-i", "0.3", "--settle", "0.3", "--html", rep)
    for path in (h, rep):
        p = load(path)
        series = p.js("JSON.parse(document.getElementById('kms-data').textContent).series")
        ev = [x for x in series if x["name"].startswith("do_eventfd+")]
        assert ev and ev[0]["growing"], [(x["name"], x["growing"]) for x in series]
        v = [b for _, b in ev[0]["points"]]
        assert v == sorted(v) and v[-1] > v[0], v
        lines = p.js("document.querySelectorAll('#timeline polyline').length")
        assert lines == len(series), (lines, len(series))
        # the trust counters at the same ticks, a line each; nothing lost here
        ticks = p.js("JSON.parse(document.getElementById('kms-data').textContent).trust_ticks")
        assert [t["t"] for t in ticks] == [t for t, _ in ev[0]["points"]], ticks
        assert all(t["lost"] == 0 and t["bad_records"] == 0 for t in ticks), ticks
        lines = p.js("document.querySelectorAll('#trust polyline').length")
        assert lines == len(ticks[0]) - 1, (lines, sorted(ticks[0]))


# ---- every report ----

@test
def reports_are_small_and_self_contained():
    for name, path in {**HTML, "frag-live": FRAG_LIVE_HTML}.items():
        size = os.path.getsize(path)
        assert 0 < size < MAX_BYTES, f"{name}: {size} bytes"
        text = open(path).read()
        for bad in ("<link", "src=\"http", "@import", "url(http", "fetch(", "XMLHttpRequest"):
            assert bad not in text, f"{name}: {bad!r} in the file"
        p = load(path)
        assert p.js("document.querySelector('#trust table') !== null"), f"{name}: no trust table"


@test
def live_top_and_leaks_write_html_at_exit():
    for cmd, key in (("top", "flame_allocs"), ("leaks", "flame_leaks")):
        h = art(f"{cmd}-live.html")
        extra = ["--settle", "0.2"] if cmd == "leaks" else []
        ok(cmd, "-d", "0.5", *extra, "--html", h)
        p = load(h)
        assert p.js(f"document.getElementById('{key}') !== null"), f"{cmd}: no {key}"
        assert p.js("JSON.parse(document.getElementById('kms-data').textContent).view") == cmd


@test
def html_path_checked_before_tracing():
    for cmd in (["top", "-d", "5"], ["leaks", "-d", "5"], ["frag", "-d", "5"],
                ["report", PIPES_REC]):
        rc, out, err = run(*cmd, "--html", "/nonexistent/dir/x.html", timeout=30)
        assert rc == 5 and "--html /nonexistent/dir/x.html" in err, (cmd, rc, err)


try:
    summary()
finally:
    BROWSER.close()
