"""Print the batch-1 latency of the default model's INT8 export after an earlier array op, per MXNet engine.

Why gazenet_app sets MXNET_ENGINE_TYPE=NaiveEngine by default: with the threaded engine, an array op before
the network is loaded (e.g. reading another .params file) makes the oneDNN kernels several times slower.

    PYTHONPATH=. python scripts/measure_engine.py [--model NAME]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys

CHILD = r"""
import sys, numpy as np
import mxnet as mx
from gazenet_app.model_zoo.pose import load_pose_model
from gazenet_app.model_zoo.store import resolve_model
from gazenet_app.model_zoo.weights_io import read_params_file
if sys.argv[2] == "after_op":  # read another model's weights first, as switching models in the app does
    read_params_file(resolve_model(sys.argv[3]).params_path)
m = load_pose_model(sys.argv[1])
x = np.random.default_rng(0).integers(0, 255, (1, m.input_size, m.input_size, 3), dtype=np.uint8)
from gazenet_app.benchmark.timing import median, paired_rounds
ts = paired_rounds({"m": lambda: m.predict_crops(x)}, 100, warmup=10)["m"]
print(f"{1000 * median(ts):.2f}")
"""


def main() -> None:
    """Run each (engine, order) case in a fresh process and print the median ms per call."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="hopenet_mnv2_96_int8")
    ap.add_argument("--other", default="hopenet_mnv2_96", help="the model whose weights are read first")
    ap.add_argument("--threads", default="2", help="OMP_NUM_THREADS of the runs (default 2)")
    args = ap.parse_args()
    print(f"model {args.model}, batch 1, OMP_NUM_THREADS={args.threads}; earlier op: reading {args.other}'s weights")
    print("| engine | first array op | ms per call (median of 100) |")
    print("|---|---|---|")
    for engine in ("ThreadedEnginePerDevice", "NaiveEngine"):
        for order in ("network", "after_op"):
            env = dict(os.environ, MXNET_ENGINE_TYPE=engine, OMP_NUM_THREADS=args.threads)
            out = subprocess.run([sys.executable, "-c", CHILD, args.model, order, args.other], env=env,
                                 capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
            first = "the network's own" if order == "network" else "an earlier op"
            print(f"| {engine} | {first} | {out} |")


if __name__ == "__main__":
    main()
