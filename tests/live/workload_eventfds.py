#!/usr/bin/env python3
"""Known kernel-side work: create N eventfds (one kmalloc in do_eventfd each,
plus a file), hold them for HOLD seconds, then close them all."""
import os
import sys
import time

n = int(sys.argv[1])
hold = float(sys.argv[2])
fds = [os.eventfd(0) for _ in range(n)]
time.sleep(hold)
for fd in fds:
    os.close(fd)
