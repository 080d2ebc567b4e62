"""gazenet: keypoint-free head-pose estimation (Hopenet in MXNet/Gluon) with a desktop app.

Importing the package loads no MXNet, OpenCV or Qt; submodules do that on demand.
"""

import os

__all__ = ["__version__", "usable_cpus"]


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity where the OS reports one, else all of them)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


# MXNet's threaded engine runs operators on worker threads, each with its own OpenMP pool: once any array op
# has run in the process (loading a .params file, asnumpy), oneDNN kernels of a network loaded later run 3-4x
# slower on 2 cores (INT8 MobileNetV2 at 96 px: 1.0 -> 3.7-4.3 ms). gazenet calls its networks synchronously,
# which the naive engine does in the calling thread with one pool, at no cost to training speed.
# `python scripts/measure_engine.py` shows both; set MXNET_ENGINE_TYPE yourself to override.
os.environ.setdefault("MXNET_ENGINE_TYPE", "NaiveEngine")
# Left unset, MXNet lowers the calling thread's OpenMP thread count when it loads (to 1 on a 2-vCPU machine), so
# oneDNN ran the pose network on one core in the CLI; and changing the count later in the process (as
# torch.set_num_threads does) makes kernels created under the old count return wrong numbers. Use every usable
# CPU from the start: `python scripts/measure_omp_threads.py`; set OMP_NUM_THREADS yourself to override.
os.environ.setdefault("OMP_NUM_THREADS", str(usable_cpus()))

__version__ = "0.1.0"
