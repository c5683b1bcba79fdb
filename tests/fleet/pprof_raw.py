"""Read back what `go tool pprof -raw` prints of a profile: sample types,
samples (values, location ids, labels), locations and mappings."""
import re
import subprocess


def go_pprof(*args, timeout=60):
    """go tool pprof ARGS (no symbolization: the names are in the profile)."""
    p = subprocess.run(["go", "tool", "pprof", "-symbolize=none", *args],
                       capture_output=True, text=True, timeout=timeout,
                       env={"HOME": "/tmp", "GOCACHE": "/tmp/go-cache", "PATH": "/usr/bin:/bin",
                            "PPROF_TMPDIR": "/tmp"})
    assert p.returncode == 0, f"go tool pprof {' '.join(args)}: {p.stderr.strip()}"
    return p.stdout


def parse_raw(text):
    """{'types': [...], 'samples': [{'values', 'locs', 'labels'}], 'locations':
    {id: (mapping, function)}, 'mappings': {id: file}}"""
    prof = {"types": [], "samples": [], "locations": {}, "mappings": {}}
    section = None
    for line in text.splitlines():
        if line in ("Samples:", "Locations", "Mappings"):
            section = line.rstrip(":")
            continue
        if section == "Samples":
            if not prof["types"]:
                prof["types"] = [t.split("/")[0] for t in line.split()]
                continue
            m = re.match(r"^\s*([-\d ]+):((?: \d+)*)\s*$", line)
            if m:
                prof["samples"].append({"values": [int(v) for v in m.group(1).split()],
                                        "locs": [int(x) for x in m.group(2).split()],
                                        "labels": {}})
                continue
            for k, v in re.findall(r"(\w+):\[([^\]]*)\]", line):
                prof["samples"][-1]["labels"][k] = v
        elif section == "Locations":
            m = re.match(r"^\s*(\d+): 0x[0-9a-f]+ M=(\d+) (\S+)", line)
            if m:
                prof["locations"][int(m.group(1))] = (int(m.group(2)), m.group(3))
        elif section == "Mappings":
            m = re.match(r"^(\d+): \S+ (\S+)", line)
            if m:
                prof["mappings"][int(m.group(1))] = m.group(2)
    return prof


def read(path):
    return parse_raw(go_pprof("-raw", path))
