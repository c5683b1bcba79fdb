#!/usr/bin/env python3
"""setxattr N times on a tmpfs file: the kernel copies each value with
vmemdup_user(), an allocator wrapper (kmemscope charges it to its caller)."""
import os, sys
n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
p = "/dev/shm/kms-xattr.%d" % os.getpid()
open(p, "w").close()
v = b"v" * 200
for i in range(n):
    os.setxattr(p, "user.k", v)
os.unlink(p)
