"""Print what OpenMP thread count MXNet's oneDNN kernels get in the calling thread, and what it costs.

Why gazenet_app sets OMP_NUM_THREADS to the usable CPU count by default: left unset, MXNet 1.9.1 lowers the
calling thread's OpenMP thread count when it loads (to 1 on a 2-vCPU machine), so the CLI and the bench ran
the pose network on one core; a later change of that count in the same process (torch.set_num_threads does
one) makes oneDNN kernels created under the old count return wrong numbers.

    PYTHONPATH=. python scripts/measure_omp_threads.py [--model NAME] [--batch 8]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

CHILD = r"""
import ctypes, sys, numpy as np
if sys.argv[3] == "raw":          # MXNet alone, as before gazenet set the default
    import mxnet as mx
else:
    import gazenet_app            # sets the defaults, then loads MXNet on demand
    import mxnet as mx
omp = ctypes.CDLL("libgomp.so.1").omp_get_max_threads()
from gazenet_app.model_zoo.pose import load_pose_model
m = load_pose_model(sys.argv[1])
x = np.random.default_rng(0).integers(0, 255, (int(sys.argv[2]), m.input_size, m.input_size, 3), dtype=np.uint8)
from gazenet_app.benchmark.timing import median, paired_rounds
ts = paired_rounds({"m": lambda: m.predict_crops(x)}, 40, warmup=5)["m"]
print(f"{omp} {1000 * median(ts):.2f}")
"""


def main() -> None:
    """Run each case in a fresh process and print OpenMP's thread count and the median ms per call."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="hopenet_mnv2_96_fused")
    ap.add_argument("--batch", type=int, default=8)
    args = ap.parse_args()
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    sys.path.insert(0, root)
    from gazenet_app import usable_cpus

    cpus = usable_cpus()
    cases = [("MXNet alone, OMP_NUM_THREADS unset", "raw", None),
             ("gazenet default (unset: the usable CPUs)", "gazenet", None),
             ("OMP_NUM_THREADS=1", "gazenet", "1")]
    print(f"model {args.model}, batch {args.batch}, {cpus} usable CPUs")
    for label, mode, threads in cases:
        env = {k: v for k, v in os.environ.items() if k != "OMP_NUM_THREADS"}
        env["PYTHONPATH"] = root + os.pathsep + env.get("PYTHONPATH", "")
        if threads:
            env["OMP_NUM_THREADS"] = threads
        out = subprocess.run([sys.executable, "-c", CHILD, args.model, str(args.batch), mode], env=env,
                             capture_output=True, text=True, check=True).stdout.split()
        print(f"{label:45s} OpenMP threads {out[-2]:>2}, {out[-1]} ms per call")


if __name__ == "__main__":
    main()
