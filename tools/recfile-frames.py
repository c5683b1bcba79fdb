#!/usr/bin/env python3
"""List the frames of a kmemscope recording (docs/recording-format.md), or write a
smaller copy keeping only some: tools/recfile-frames.py FILE [--keep-bytes N -o OUT].
Frames are self-contained (own length and CRC), so a subset is still a valid file;
used to cut real recordings down to fuzzing seeds (tests/fuzz/recfile/)."""
import argparse
import struct
import sys
import zlib

NAMES = {1: "META", 2: "ZONEINFO", 3: "BUDDYINFO", 4: "PAGETYPEINFO", 5: "PROBES", 6: "GFP",
         7: "PAGESEED", 8: "KSYMS", 9: "EVENTS", 10: "STACKS", 11: "COUNTERS", 12: "END",
         13: "COUNTERS_X", 14: "PAGESEED_KINDS", 15: "SLABALIAS"}


def frames(data):
    off = 16
    while off + 24 <= len(data):
        magic, tf, raw, stored = struct.unpack_from("<IIII", data, off)
        tf &= 0xFFFFFFFF
        if magic != 0x46534D4B or off + 24 + stored > len(data):
            break
        yield off, tf & 0xFFFF, raw, stored
        off += 24 + stored


RAW = False


def frame(t, payload):
    """A new frame holding payload (zlib unless --raw), with both CRCs."""
    z = payload if RAW else zlib.compress(payload, 1)
    flags = 0 if RAW else 1 << 16
    hdr = struct.pack("<IIIII", 0x46534D4B, t | flags, len(payload), len(z), zlib.crc32(z))
    return hdr + struct.pack("<I", zlib.crc32(hdr)) + z


def first_items(data, off, tf, stored, n):
    """An EVENTS frame cut to its first n items."""
    raw = data[off + 24:off + 24 + stored]
    raw = zlib.decompress(raw) if tf >> 16 & 1 else raw
    pos = 0
    for _ in range(n):
        if pos + 4 > len(raw):
            break
        pos += 4 + (struct.unpack_from("<I", raw, pos)[0] & 0xFFFFFF)
    return frame(9, raw[:pos])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--keep-bytes", type=int, help="events/ksyms/seed budget for -o")
    ap.add_argument("--max-items", type=int, help="cut each EVENTS frame to N items (-o)")
    ap.add_argument("--raw", action="store_true", help="write every frame uncompressed (-o)")
    ap.add_argument("-o", dest="out")
    a = ap.parse_args()
    global RAW
    RAW = a.raw
    data = open(a.file, "rb").read()
    if not a.out:
        for off, t, raw, stored in frames(data):
            print(f"{off:10d} {NAMES.get(t, str(t)):14s} raw {raw:9d} stored {stored:9d}")
        return 0
    out, budget = bytearray(data[:16]), a.keep_bytes or 16384
    for off, t, raw, stored in frames(data):
        size = 24 + stored
        if NAMES.get(t) == "EVENTS" and a.max_items:
            tf = struct.unpack_from("<I", data, off + 4)[0]
            f = first_items(data, off, tf, stored, a.max_items)
            if len(f) <= budget:
                budget -= len(f)
                out += f
            continue
        if NAMES.get(t) in ("EVENTS", "KSYMS", "PAGESEED", "PAGESEED_KINDS", "STACKS",
                            "PAGETYPEINFO"):
            if size > budget:
                continue
            budget -= size
        if RAW:
            tf = struct.unpack_from("<I", data, off + 4)[0]
            body = data[off + 24:off + size]
            out += frame(t, zlib.decompress(body) if tf >> 16 & 1 else body)
        else:
            out += data[off:off + size]
    open(a.out, "wb").write(out)
    return 0


sys.exit(main())
