#!/usr/bin/env python3
"""Fleet mode on the running kernel (root): pprof profiles read back with
Debian's go tool pprof and compared with the JSON of the same run; the agent's
metrics checked by promtool and scraped by a real Prometheus; --cgroup with
processes in nested cgroups made here. Arguments name the tests to run."""
import collections
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
KMS = os.environ.get("KMEMSCOPE", os.path.join(ROOT, "build", "kmemscope"))
PIPES = os.path.join(ROOT, "tests", "live", "workload_pipes.py")
EVENTFDS = os.path.join(ROOT, "tests", "live", "workload_eventfds.py")
sys.path.insert(0, os.path.join(ROOT, "tests"))
sys.path.insert(0, os.path.join(ROOT, "tests", "fleet"))
from harness import summary, test  # noqa: E402
import pprof_raw  # noqa: E402

TMP = tempfile.mkdtemp(prefix="kms-fleet.")
VALUES = ("allocs", "bytes_alloc", "live", "live_bytes")
# leaks' JSON rows: what is outstanding (inuse_objects, inuse_space)
LEAK_VALUES = [lambda c: c["count"], lambda c: c["bytes"]]
PY_COMM = os.path.basename(sys.executable)[:15]	# /proc/PID/comm: the name exec was given


def run(*args, timeout=120):
    p = subprocess.run([KMS, *args], capture_output=True, text=True, timeout=timeout)
    assert p.returncode == 0, f"kmemscope {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}"
    return p.stdout


def need(tool, pkg):
    if not shutil.which(tool):
        raise AssertionError(f"{tool} missing (Debian package {pkg}: tools/deps all)")


def leaf_function(prof, sample):
    """The caller: the last location (the wrapper, if any, comes first)."""
    return prof["locations"][sample["locs"][-1]][1]


def check_profile_matches(prof, callers, values, first=0):
    """The samples of each JSON row (one per process name and cgroup that made
    or holds its allocations: labels comm and cgroup) add up to the row: same
    family, caller, cache, class, and values summed (the sample's from index
    @first on; None in @callers: any)."""
    assert prof["types"] == ["alloc_objects", "alloc_space", "inuse_objects", "inuse_space"], \
        prof["types"]
    assert len(prof["samples"]) >= len(callers), \
        f"{len(prof['samples'])} samples for {len(callers)} JSON rows"
    n = len(values)
    want, anyv = collections.defaultdict(lambda: [0] * n), collections.defaultdict(set)
    for c in callers:
        k = (c["family"], c["function"], c.get("cache"), c.get("class"))
        for i, v in enumerate(values):
            if v(c) is None:
                anyv[k].add(i)
            else:
                want[k][i] += v(c)
    got = collections.defaultdict(lambda: [0] * n)
    for s in prof["samples"]:
        lb = s["labels"]
        k = (lb.get("family"), leaf_function(prof, s), lb.get("cache"), lb.get("class"))
        for i in range(n):
            got[k][i] += s["values"][first + i]
    assert set(got) == set(want), (f"only pprof: {list(set(got) - set(want))[:3]}, "
                                   f"only JSON: {list(set(want) - set(got))[:3]}")
    bad = [(k, got[k], want[k]) for k in want
           if any(got[k][i] != want[k][i] for i in range(n) if i not in anyv[k])]
    assert not bad, f"{len(bad)} rows differ, e.g. {bad[:3]}"
    files = set(prof["mappings"].values())
    assert "[kernel.kallsyms]" in files, files
    assert all(f.startswith("[") and f.endswith("]") for f in files), files


def leak_samples(rows):
    """The samples a leaks report's rows make: a row's part held by processes
    still running is one of its own, class process."""
    out = []
    for r in rows:
        held = r["still_running"] if r["class"] != "process" else 0
        if held:	# JSON gives the count held, not the bytes
            out.append(dict(r, count=held, bytes=None, **{"class": "process"}))
        out.append(dict(r, count=r["count"] - held, bytes=None if held else r["bytes"]))
    return out


def top_values():
    return [lambda c, k=k: c[k] for k in VALUES]


@test
def pprof_top_matches_json_of_the_same_run():
    need("go", "golang-go")
    path = os.path.join(TMP, "top.pb.gz")
    doc = json.loads(run("top", "--json", "--pprof", path, "--",
                         sys.executable, PIPES, "300"))
    prof = pprof_raw.read(path)
    check_profile_matches(prof, doc["callers"], top_values())
    # -top agrees: alloc_pipe_info's flat allocations are the JSON's
    want = sum(c["allocs"] for c in doc["callers"]
               if c["function"] == "alloc_pipe_info" and not c["via"])
    assert want >= 300, f"alloc_pipe_info allocs {want}"
    out = pprof_raw.go_pprof("-top", "-nodefraction=0", "-nodecount=100000",
                             "-sample_index=alloc_objects", path)
    flat = {ln.split()[-1]: ln.split()[0] for ln in out.splitlines()
            if ln.strip().endswith("alloc_pipe_info")}
    assert flat.get("alloc_pipe_info") == str(want), f"-top: {flat}, JSON: {want}"


@test
def pprof_leaks_matches_json_of_the_same_run():
    need("go", "golang-go")
    path = os.path.join(TMP, "leaks.pb.gz")
    holder = f"{sys.executable} {PIPES} 100 8 & sleep 1.5"
    try:
        doc = json.loads(run("leaks", "--json", "--settle", "0.5", "--pprof", path, "--",
                             "sh", "-c", holder))
    finally:
        subprocess.run(["pkill", "-f", f"{PIPES} 100 8"])
    prof = pprof_raw.read(path)
    rows = leak_samples(doc["outstanding"])
    assert rows, "nothing outstanding"
    check_profile_matches(prof, rows, LEAK_VALUES, first=2)
    per_class = collections.Counter()
    for s in prof["samples"]:
        per_class[s["labels"]["class"]] += s["values"][2]
    for cls, t in doc["totals"].items():
        assert per_class[cls] == t["count"], f"{cls}: pprof {per_class[cls]}, JSON {t}"
    assert per_class["process"] >= 100, per_class


@test
def pprof_of_a_replay_matches_its_json():
    need("go", "golang-go")
    rec = os.path.join(TMP, "t.kms")
    run("record", "-o", rec, "--force", "--", sys.executable, PIPES, "200")
    for view in ("top", "leaks"):
        path = os.path.join(TMP, f"replay-{view}.pb.gz")
        doc = json.loads(run("report", rec, view, "--json", "--pprof", path))
        prof = pprof_raw.read(path)
        if view == "top":
            check_profile_matches(prof, doc["callers"], top_values())
        else:
            check_profile_matches(prof, leak_samples(doc["outstanding"]), LEAK_VALUES,
                                  first=2)
        # the same file again: the same bytes (nothing but the recording in it)
        again = path + ".2"
        run("report", rec, view, "--pprof", again)
        assert open(path, "rb").read() == open(again, "rb").read(), f"{view}: differs"


@test
def pprof_unwritable_path_fails_before_tracing():
    t0 = time.monotonic()
    p = subprocess.run([KMS, "top", "-d", "30", "--pprof", "/nonexistent/dir/x.pb.gz"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 5 and "--pprof /nonexistent/dir/x.pb.gz" in p.stderr, \
        (p.returncode, p.stderr)
    assert time.monotonic() - t0 < 10, "traced before failing"


class Agent:
    """kmemscope agent on a loopback port of its own, stopped on exit."""

    def __init__(self, *args, prefix=()):
        self.err = os.path.join(TMP, f"agent.{len(os.listdir(TMP))}.err")
        with open(self.err, "w") as e:
            self.p = subprocess.Popen([*prefix, KMS, "agent", "--listen", "127.0.0.1:0", *args],
                                      stdout=subprocess.DEVNULL, stderr=e)
        self.addr = None
        for _ in range(300):
            text = open(self.err).read()
            m = re.search(r"serving http://(\S+)/metrics", text)
            if m:
                self.addr = m.group(1)
                break
            assert self.p.poll() is None, f"agent exit {self.p.returncode}: {text.strip()}"
            time.sleep(0.1)
        assert self.addr, f"agent did not start: {open(self.err).read().strip()}"

    def get(self, path="/metrics", accept=None):
        req = urllib.request.Request(f"http://{self.addr}{path}",
                                     headers={"Accept": accept} if accept else {})
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.headers.get("Content-Type"), r.read().decode()

    def stop(self):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            self.p.wait(timeout=20)
        return self.p.returncode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()


def samples(text):
    """{(name, frozenset(labels)): value} of an exposition."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = re.match(r'^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$', line)
        assert m, f"not a sample line: {line!r}"
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        out[(m.group(1), labels)] = float(m.group(3))
    return out


def promtool_ok(text):
    need("promtool", "prometheus")
    p = subprocess.run(["promtool", "check", "metrics"], input=text, capture_output=True,
                       text=True, timeout=60)
    assert p.returncode == 0 and not p.stdout.strip() and not p.stderr.strip(), \
        f"promtool: {(p.stdout + p.stderr).strip()[:600]}"


def per_family(smp, name):
    tot = collections.Counter()
    for (n, labels), v in smp.items():
        if n == name:
            tot[dict(labels)["family"]] += v
    return tot


@test
def agent_metrics_pass_promtool_and_add_up():
    textfile = os.path.join(TMP, "kmemscope.prom")
    with Agent("-i", "1", "--top", "3", "--textfile", textfile) as a:
        subprocess.run([sys.executable, PIPES, "500"], check=True)
        time.sleep(1.5)
        ctype, text = a.get()
        assert ctype.startswith("text/plain; version=0.0.4"), ctype
        promtool_ok(text)
        smp = samples(text)
        # the call-site series of a family add up to its totals ("other" included)
        for site, fam in (("kmemscope_callsite_allocations_total",
                           "kmemscope_family_allocations_total"),
                          ("kmemscope_callsite_allocated_bytes_total",
                           "kmemscope_family_allocated_bytes_total"),
                          ("kmemscope_callsite_outstanding_bytes",
                           "kmemscope_family_outstanding_bytes"),
                          ("kmemscope_class_outstanding_bytes",
                           "kmemscope_family_outstanding_bytes")):
            sites, fams = per_family(smp, site), per_family(smp, fam)
            assert all(sites[f] == v for f, v in fams.items()), f"{site}: {sites}, {fam}: {fams}"
        names = {n for n, _ in smp}
        for want in ("kmemscope_zone_free_blocks", "kmemscope_zone_fragmentation_index",
                     "kmemscope_events_lost_total", "kmemscope_untracked_allocations_total",
                     "kmemscope_unmatched_frees_total", "process_cpu_seconds_total",
                     "process_resident_memory_bytes"):
            assert want in names, f"{want} missing"
        # bounded: at most 3 call sites per family, then "other"
        sites = collections.Counter(dict(lb)["family"] for n, lb in smp
                                    if n == "kmemscope_callsite_allocations_total")
        assert max(sites.values()) <= 4, sites
        assert smp[("kmemscope_events_lost_total", frozenset())] == 0, "records lost"
        # the textfile: whole, valid, without the process_* node_exporter has
        tf = open(textfile).read()
        promtool_ok(tf)
        assert "kmemscope_callsite_allocations_total" in tf and "process_" not in tf
        assert a.get("/")[1].startswith("kmemscope agent")
        try:
            a.get("/nothing")
            raise AssertionError("/nothing: not a 404")
        except urllib.error.HTTPError as e:
            assert e.code == 404, e
        # SIGHUP reloads (symbols), it does not end the agent
        a.p.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        assert a.p.poll() is None, "SIGHUP ended the agent"
        assert a.get()[1], "no metrics after SIGHUP"
        assert a.stop() == 0, f"SIGTERM: exit {a.p.returncode}"
    assert "read again" in open(a.err).read(), open(a.err).read()


@test
def agent_address_errors_are_one_line():
    for addr in ("foo:1", "127.0.0.1", "127.0.0.1:99999"):
        p = subprocess.run([KMS, "agent", "--listen", addr, "-d", "1"], capture_output=True,
                           text=True, timeout=30)
        assert p.returncode == 1 and p.stderr.count("\n") == 1 and addr in p.stderr, \
            (addr, p.returncode, p.stderr)


@test
def agent_memory_is_bounded_and_drops_counted():
    with Agent("--max-tracked", "1000", "--top", "1000") as a:
        p = subprocess.Popen([sys.executable, PIPES, "3000", "5"])
        try:
            time.sleep(3)
            smp = samples(a.get()[1])
        finally:
            p.kill()
            p.wait()
    assert smp[("kmemscope_tracked_allocations", frozenset())] <= 1000, smp
    assert smp[("kmemscope_tracked_allocations_limit", frozenset())] == 1000, smp
    assert smp[("kmemscope_untracked_allocations_total", frozenset())] > 0, \
        "a full table dropped nothing"
    # unless told, the agent's own ceiling (documented), not leaks' 8 Mi
    with Agent() as a:
        limit = samples(a.get()[1])[("kmemscope_tracked_allocations_limit", frozenset())]
    assert limit == 1 << 20, limit


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def prom_query(base, q):
    url = f"{base}/api/v1/query?" + urllib.parse.urlencode({"query": q})
    with urllib.request.urlopen(url, timeout=10) as r:
        doc = json.load(r)
    assert doc["status"] == "success", doc
    return doc["data"]["result"]


def start_prometheus(target):
    """Debian's prometheus on loopback, scraping @target every second."""
    need("prometheus", "prometheus")
    d = tempfile.mkdtemp(dir=TMP, prefix="prom.")
    conf = os.path.join(d, "prometheus.yml")
    shipped = open(os.path.join(ROOT, "dist", "prometheus.yml")).read()
    # the shipped config, pointed at this agent and scraping every second
    conf_text = shipped.replace("127.0.0.1:19183", target).replace("15s", "1s")
    assert target in conf_text
    open(conf, "w").write(conf_text)
    port = free_port()
    log = open(os.path.join(d, "log"), "w")
    p = subprocess.Popen(["prometheus", f"--config.file={conf}",
                          f"--storage.tsdb.path={d}/data",
                          f"--web.listen-address=127.0.0.1:{port}"],
                         stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            urllib.request.urlopen(f"{base}/-/ready", timeout=2)
            return p, base, d
        except (urllib.error.URLError, ConnectionError):
            assert p.poll() is None, f"prometheus exit: {open(log.name).read()[-800:]}"
            time.sleep(0.2)
    p.kill()
    raise AssertionError("prometheus not ready in 60 s")


@test
def prometheus_scrapes_the_agent_and_sees_a_workload():
    n = 2000
    q = 'kmemscope_callsite_allocations_total{family="kmalloc",caller="alloc_pipe_info"}'
    with Agent("--top", "1000") as a:
        p, base, d = start_prometheus(a.addr)
        try:
            before = None
            for _ in range(100):	# the first scrapes
                r = prom_query(base, q)
                up = prom_query(base, 'up{job="kmemscope"}')
                if up and up[0]["value"][1] == "1":
                    before = float(r[0]["value"][1]) if r else 0.0
                    break
                time.sleep(0.2)
            assert before is not None, f"never scraped: {prom_query(base, 'up')}"
            subprocess.run([sys.executable, PIPES, str(n)], check=True)
            got = before
            for _ in range(100):
                r = prom_query(base, q)
                got = float(r[0]["value"][1]) if r else 0.0
                if got >= before + n:
                    break
                time.sleep(0.2)
            assert got >= before + n, f"{q}: {before} -> {got}, want +{n}"
            inc = prom_query(base, 'sum(increase(kmemscope_family_allocations_total[1m]))')
            assert inc and float(inc[0]["value"][1]) > 0, inc
        finally:
            p.terminate()
            p.wait(timeout=30)


# What Prometheus 2.x sends when it scrapes: OpenMetrics first
PROM_ACCEPT = ("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
               "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1")


@test
def agent_speaks_openmetrics_when_asked():
    with Agent("--top", "3") as a:
        subprocess.run([sys.executable, PIPES, "200"], check=True)
        time.sleep(1)
        ctype, om = a.get(accept=PROM_ACCEPT)
        _, text = a.get()
    assert ctype == "application/openmetrics-text; version=1.0.0; charset=utf-8", ctype
    assert om.endswith("\n# EOF\n") and om.count("# EOF") == 1, om[-200:]
    types = dict(re.findall(r"^# TYPE (\S+) (\S+)$", om, re.M))
    helps = set(re.findall(r"^# HELP (\S+) ", om, re.M))
    assert helps == set(types), set(types) ^ helps
    counters = [n for n, t in types.items() if t == "counter"]
    assert "kmemscope_callsite_allocations" in counters, counters
    assert not any(n.endswith("_total") for n in counters), counters
    # every sample belongs to a family declared before it: a counter's are NAME_total
    declared = set()
    for line in om.splitlines():
        m = re.match(r"^# TYPE (\S+) ", line)
        if m:
            declared.add(m.group(1))
        elif line and not line.startswith("#"):
            name = re.match(r"^[\w:]+", line).group(0)
            fam = name[:-6] if name.endswith("_total") and name[:-6] in counters else name
            assert fam in declared, f"{name}: no TYPE before it"
    # the same series as the text format (curl's Accept: */* gets that)
    assert {n for n, _ in samples(om)} == {n for n, _ in samples(text)}
    assert "# EOF" not in text


@test
def agent_runs_with_the_units_capabilities_only():
    unit = open(os.path.join(ROOT, "dist", "kmemscope-agent.service.in")).read()
    caps = re.search(r"^CapabilityBoundingSet=(.*)$", unit, re.M).group(1).split()
    assert caps == ["CAP_BPF", "CAP_PERFMON", "CAP_SYS_RESOURCE", "CAP_SYSLOG"], caps
    for key in ("ProtectSystem=strict", "Restart=on-failure", "kill -HUP $$MAINPID"):
        assert key in unit, key
    bset = "-all," + ",".join("+" + c[4:].lower() for c in caps)
    with Agent("--top", "1000", prefix=("setpriv", f"--bounding-set={bset}",
                                        "--inh-caps=-all")) as a:
        subprocess.run([sys.executable, PIPES, "300"], check=True)
        time.sleep(1)
        smp = samples(a.get()[1])
    # events flowed, and callers have names (CAP_SYSLOG: kallsyms addresses)
    pipes = sum(v for (n, lb), v in smp.items() if n == "kmemscope_callsite_allocations_total"
                and ("caller", "alloc_pipe_info") in lb and ("family", "kmalloc") in lb)
    assert pipes >= 300, pipes
    if shutil.which("systemd-analyze"):
        svc = os.path.join(TMP, "kmemscope-agent.service")
        open(svc, "w").write(unit.replace("@sbindir@/kmemscope", KMS))
        r = subprocess.run(["systemd-analyze", "verify", svc], capture_output=True, text=True)
        # (its man page is installed with the package, not here)
        bad = [ln for ln in (r.stdout + r.stderr).splitlines() if "kmemscope-agent" in ln
               and "'man kmemscope-agent(8)'" not in ln]
        assert not bad, bad


def cgroup2_root():
    for line in open("/proc/mounts"):
        f = line.split()
        if f[2] == "cgroup2":
            return f[1]
    raise AssertionError("no cgroup2 mount")


class Cgroups:
    """/fleet.PID/a/b and /fleet.PID/c under the cgroup2 mount, removed on exit."""

    def __init__(self):
        self.root = cgroup2_root()
        self.top = f"/kms-fleet.{os.getpid()}"
        self.dirs = [self.top, f"{self.top}/a", f"{self.top}/a/b", f"{self.top}/c"]
        for d in self.dirs:
            os.makedirs(self.root + d, exist_ok=True)

    def run_in(self, cg, *argv):
        """Start argv inside cgroup @cg (it moves itself there first)."""
        procs = f"{self.root}{cg}/cgroup.procs"
        return subprocess.Popen(["sh", "-c", f'echo $$ > {procs} && exec "$@"', "sh", *argv])

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        for d in reversed(self.dirs):
            for _ in range(50):
                try:
                    os.rmdir(self.root + d)
                    break
                except OSError:
                    time.sleep(0.1)


@test
def cgroup_counts_the_subtree_only():
    n_in, n_out = 300, 170
    with Cgroups() as cg:
        path = os.path.join(TMP, "cg.pb.gz")
        k = subprocess.Popen([KMS, "top", "--json", "-d", "6", "--cgroup", f"{cg.top}/a",
                              "--pprof", path], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
        time.sleep(2.5)		# the programs load and attach
        ws = [cg.run_in(f"{cg.top}/a/b", sys.executable, PIPES, str(n_in)),
              cg.run_in(f"{cg.top}/c", sys.executable, PIPES, str(n_out))]
        for w in ws:
            assert w.wait(timeout=60) == 0, "a workload failed"
        out, err = k.communicate(timeout=60)
        assert k.returncode == 0, f"top: exit {k.returncode}: {err.strip()}"
    doc = json.loads(out)
    assert doc["cgroup"] == f"{cg.top}/a", doc.get("cgroup")
    pipes = [c["allocs"] for c in doc["callers"]
             if c["family"] == "kmalloc" and c["function"] == "alloc_pipe_info"]
    # the process in a/b counts (a descendant), the one in c does not
    assert sorted(pipes) == [n_in, n_in], f"alloc_pipe_info rows {pipes}, want {n_in} twice"
    assert doc["events"]["filtered"] > 0, doc["events"]
    prof = pprof_raw.read(path)
    # each sample names the cgroup of the processes that made it: a/b, or a
    # (the --cgroup) for those that exited before they could be named
    assert {s["labels"].get("cgroup") for s in prof["samples"]} <= {f"{cg.top}/a",
                                                                     f"{cg.top}/a/b"}
    pipe = [s for s in prof["samples"] if leaf_function(prof, s) == "alloc_pipe_info"
            and s["labels"]["family"] == "kmalloc"]
    assert sum(s["values"][0] for s in pipe) == 2 * n_in, pipe
    assert {(s["labels"].get("cgroup"), s["labels"].get("comm")) for s in pipe} == \
        {(f"{cg.top}/a/b", PY_COMM)}, pipe


@test
def cgroup_errors_and_labels_in_text_and_metrics():
    p = subprocess.run([KMS, "top", "-d", "1", "--cgroup", "/no/such/cgroup"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 1 and "no such cgroup" in p.stderr, (p.returncode, p.stderr)
    with Cgroups() as cg:
        full = cg.root + cg.top		# the full path is taken too
        with Agent("--cgroup", full, "--top", "1000") as a:
            w = cg.run_in(f"{cg.top}/c", sys.executable, PIPES, "50")
            assert w.wait(timeout=60) == 0
            time.sleep(1)
            smp = samples(a.get()[1])
        t = subprocess.run([KMS, "top", "-d", "1", "--cgroup", cg.top], capture_output=True,
                           text=True, timeout=60)
    assert t.returncode == 0 and f"cgroup: {cg.top} and its descendants" in t.stdout, t.stdout
    assert re.search(r"ALLOCS +BYTES_ALLOC +LIVE_BYTES +CGROUP", t.stdout), t.stdout[-600:]
    got = sum(v for (n, lb), v in smp.items() if n == "kmemscope_callsite_allocations_total"
              and ("caller", "alloc_pipe_info") in lb and ("family", "kmalloc") in lb)
    assert got == 2 * 50, f"alloc_pipe_info in {cg.top}: {got}"
    cgs = {dict(lb).get("cgroup") for n, lb in smp if n.startswith("kmemscope_callsite_")}
    assert cgs == {cg.top}, cgs


@test
def a_recording_keeps_its_cgroup():
    rec = os.path.join(TMP, "cg.kms")
    with Cgroups() as cg:
        k = subprocess.Popen([KMS, "record", "-o", rec, "--force", "-d", "5", "--cgroup",
                              f"{cg.top}/a"], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                             text=True)
        time.sleep(2.5)		# the programs load and attach
        w = cg.run_in(f"{cg.top}/a/b", sys.executable, PIPES, "100")
        assert w.wait(timeout=60) == 0, "the workload failed"
        _, err = k.communicate(timeout=60)
        assert k.returncode == 0, f"record: exit {k.returncode}: {err.strip()}"
    j = subprocess.run([KMS, "report", rec, "top", "--json"], capture_output=True, text=True,
                       timeout=120)
    assert j.returncode == 0, j.stderr
    doc = json.loads(j.stdout)
    assert doc.get("cgroup") == f"{cg.top}/a", doc.get("cgroup")
    pipes = sum(c["allocs"] for c in doc["callers"]
                if c["family"] == "kmalloc" and c["function"] == "alloc_pipe_info")
    assert pipes == 2 * 100, pipes
    t = subprocess.run([KMS, "report", rec, "top"], capture_output=True, text=True, timeout=120)
    assert f"cgroup: {cg.top}/a and its descendants" in t.stdout, t.stdout[:600]


@test
def agent_sample_8_states_its_rate_and_scales_the_series():
    """--sample 8: 16000 eventfds (one kmalloc each in do_eventfd, held
    together): the call site's series is 8 x the kept objects, within 15 %
    of 16000 (2000 kept: about +-4.5 %); the rate and what was left out are
    series of their own."""
    n = 16000
    with Agent("--sample", "8", "--top", "1000") as a:
        subprocess.run([sys.executable, EVENTFDS, str(n), "0.2"], check=True)
        time.sleep(1.5)
        text = a.get()[1]
        assert a.stop() == 0
    promtool_ok(text)
    smp = samples(text)
    assert smp[("kmemscope_sample_rate", frozenset())] == 8, "no kmemscope_sample_rate 8"
    assert smp[("kmemscope_events_sampled_out_total", frozenset())] > 0
    got = sum(v for (name, lb), v in smp.items()
              if name == "kmemscope_callsite_allocations_total" and
              ("caller", "do_eventfd") in lb and ("family", "kmalloc") in lb)
    assert abs(got - n) <= 0.15 * n and got % 8 == 0, f"do_eventfd {got}, not {n}"


@test
def pprof_sample_8_says_so_and_matches_json():
    path = os.path.join(TMP, "sample.pb.gz")
    doc = json.loads(run("top", "--json", "--sample", "8", "--pprof", path, "--",
                         sys.executable, EVENTFDS, "4000", "0.1"))
    assert doc["sample"]["rate"] == 8, doc.get("sample")
    raw = zlib.decompress(open(path, "rb").read(), 16 + zlib.MAX_WBITS)
    assert b"sampling: 1 in 8 slab objects (by address)" in raw, "no sampling comment"
    if shutil.which("go"):
        check_profile_matches(pprof_raw.read(path), doc["callers"], top_values())


@test
def descendant_cgroups_apart_with_their_commands():
    """leaks, its pprof, its recording and the agent: a/b and c apart, by name."""
    rec, prof_path = os.path.join(TMP, "desc.kms"), os.path.join(TMP, "desc.pb.gz")
    with Cgroups() as cg:
        with Agent("--cgroup", cg.top, "--top", "1000") as a:
            k = subprocess.Popen([KMS, "leaks", "--json", "-d", "6", "--settle", "0.5",
                                  "--cgroup", cg.top, "--pprof", prof_path, "-o", rec,
                                  "--force"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
            time.sleep(2.5)		# the programs load and attach
            ws = [cg.run_in(f"{cg.top}/a/b", sys.executable, PIPES, "300", "12"),
                  cg.run_in(f"{cg.top}/c", sys.executable, PIPES, "150", "12")]
            out, err = k.communicate(timeout=60)
            smp = samples(a.get()[1])
            for w in ws:
                w.kill()
                w.wait()
        assert k.returncode == 0, f"leaks: exit {k.returncode}: {err.strip()}"
    doc = json.loads(out)
    held = {g["cgroup"]: g for g in doc["by_cgroup"]}
    assert {f"{cg.top}/a/b", f"{cg.top}/c"} <= set(held), list(held)
    assert held[f"{cg.top}/a/b"]["bytes"] > held[f"{cg.top}/c"]["bytes"], held
    for g in doc["by_cgroup"]:
        assert sum(g["classes"].values()) == g["bytes"], g
    assert sum(g["bytes"] for g in doc["by_cgroup"]) == \
        sum(t["bytes"] for t in doc["totals"].values()), doc["by_cgroup"]
    assert PY_COMM in {g["comm"] for g in doc["by_comm"]}, doc["by_comm"]
    # pprof: the pipes each process holds, exactly, under its cgroup and name
    prof = pprof_raw.read(prof_path)
    pipes = collections.Counter()
    for s in prof["samples"]:
        if leaf_function(prof, s) == "alloc_pipe_info" and s["labels"]["family"] == "kmalloc":
            pipes[(s["labels"].get("cgroup"), s["labels"].get("comm"))] += s["values"][2]
    assert pipes == {(f"{cg.top}/a/b", PY_COMM): 600, (f"{cg.top}/c", PY_COMM): 300}, pipes
    # the recording names them the same way on any machine
    again = json.loads(run("report", rec, "leaks", "--json", "--settle", "0.5"))
    assert again["by_cgroup"] == doc["by_cgroup"], (again["by_cgroup"], doc["by_cgroup"])
    # the agent: a series per descendant cgroup and per command name
    per_cg = collections.Counter()
    for (n, lb), v in smp.items():
        if n == "kmemscope_cgroup_outstanding_bytes":
            per_cg[dict(lb)["cgroup"]] += v
    assert per_cg[f"{cg.top}/a/b"] > per_cg[f"{cg.top}/c"] >= 150 * 4096, per_cg
    comms = {dict(lb)["comm"] for n, lb in smp if n == "kmemscope_comm_outstanding_bytes"}
    assert PY_COMM in comms, comms


if __name__ == "__main__":
    shutil.rmtree(TMP, ignore_errors=True)
    summary()
