"""Baseline "write + sha256": copies SRC to DST in 1 MiB chunks, hashing (hashlib, OpenSSL) as it
writes, then fsyncs DST, the same work as a blob store commit minus HTTP. Prints the seconds."""
import hashlib
import os
import sys
import time

src, dst = sys.argv[1], sys.argv[2]
start = time.perf_counter()
h = hashlib.sha256()
buf = bytearray(1 << 20)
view = memoryview(buf)
with open(src, "rb", buffering=0) as fin, open(dst, "wb", buffering=0) as fout:
    while n := fin.readinto(buf):
        h.update(view[:n])
        fout.write(view[:n])
    os.fsync(fout.fileno())
print(f"{time.perf_counter() - start:.4f}")
