"""Thread and allocator settings every Python benchmark runs under: the same as embq's
(README, "Threads" and "Memory allocator").

Import this before torch. torch calls OpenBLAS from inside its own intra-op threads, and two
pools spinning on the same cores slowed FP32 about 2x on the 2-CPU VM, so OpenBLAS runs
single-threaded unless the user set OPENBLAS_NUM_THREADS. It must be in the environment
before torch loads OpenBLAS, which reads it then; child processes inherit it.

glibc's malloc gives large freed blocks back to the kernel and the next forward call faults
their pages in again; embq keeps them (src/core/allocator.cpp), and so does this process
(mallopt, since glibc read the environment when the process started) and its children (the
environment), unless the user set MALLOC_*_ variables.
"""
import ctypes
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

_EMBQ_MALLOC = {"MALLOC_MMAP_THRESHOLD_": 32 << 20, "MALLOC_TRIM_THRESHOLD_": 64 << 20}
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h

if not any(name.startswith("MALLOC_") for name in os.environ):
    for name, value in _EMBQ_MALLOC.items():
        os.environ[name] = str(value)
    libc = ctypes.CDLL("libc.so.6")
    libc.mallopt(_M_MMAP_THRESHOLD, _EMBQ_MALLOC["MALLOC_MMAP_THRESHOLD_"])
    libc.mallopt(_M_TRIM_THRESHOLD, _EMBQ_MALLOC["MALLOC_TRIM_THRESHOLD_"])
