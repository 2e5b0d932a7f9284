"""Thread settings every Python benchmark runs under: the same as embq's (README, "Threads").

Import this before torch. torch calls OpenBLAS from inside its own intra-op threads, and two
pools spinning on the same cores slowed FP32 about 2x on the 2-CPU VM, so OpenBLAS runs
single-threaded unless the user set OPENBLAS_NUM_THREADS. It must be in the environment
before torch loads OpenBLAS, which reads it then; child processes inherit it.
"""
import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
