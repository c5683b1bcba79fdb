#!/usr/bin/env python3
"""The folders of user/ are layers (docs/design.md, Layout): a file may include
the headers of its own layer and of those before it in LAYERS, never of one
after it. Also: every folder is a layer, and every header name is unique (the
folders are all on the include path). Only .c and .h files are read: a
layer's other files (output/html/, embedded at build time) include nothing."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
USER = os.path.join(ROOT, "user")
LAYERS = ["base", "symbols", "model", "loader", "record", "session", "output", "cli"]


def main():
    failed = []
    folders = sorted(d for d in os.listdir(USER) if os.path.isdir(os.path.join(USER, d)))
    if folders != sorted(LAYERS):
        failed.append(f"folders {folders} are not the layers {LAYERS}")
    where = {}
    for layer in LAYERS:
        for f in os.listdir(os.path.join(USER, layer)):
            if f.endswith(".h"):
                if f in where:
                    failed.append(f"{f} in both {where[f]} and {layer}")
                where[f] = layer
    for layer in LAYERS:
        for f in sorted(os.listdir(os.path.join(USER, layer))):
            if not f.endswith((".c", ".h")):
                continue	# output/html/: the HTML report's style sheet and script
            text = open(os.path.join(USER, layer, f)).read()
            for inc in re.findall(r'#include "([a-z_]+\.h)"', text):
                if inc in where and LAYERS.index(where[inc]) > LAYERS.index(layer):
                    failed.append(f"user/{layer}/{f} includes {where[inc]}/{inc}")
    for line in failed:
        print("FAIL", line)
    print(f"{1 if not failed else 0} passed, {1 if failed else 0} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
