#!/usr/bin/env python3
"""Known kernel-side work: create N pipes, write one byte into each (one page
each), hold them for HOLD seconds (HOLD "-": until a line comes on stdin),
then close them all."""
import os
import sys
import time

n = int(sys.argv[1])
hold = sys.argv[2] if len(sys.argv) > 2 else "0"
pipes = [os.pipe() for _ in range(n)]
for r, w in pipes:
    os.write(w, b"x")
if hold == "-":
    sys.stdin.readline()
else:
    time.sleep(float(hold))
for r, w in pipes:
    os.close(r)
    os.close(w)
