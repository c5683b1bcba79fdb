#!/usr/bin/env python3
"""Known kernel-side work: create and close N socket pairs. Their inodes come
from sock_inode_cache, whose slabs are refilled from the page allocator through
SLUB's ___slab_alloc (a frame realigned to 16 bytes on 6.18)."""
import socket
import sys

for _ in range(int(sys.argv[1])):
    a, b = socket.socketpair()
    a.close()
    b.close()
