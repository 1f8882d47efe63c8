"""Cold start: `caffelint --version` and `caffelint check` on a 20-line solver, against `python -c pass`.

Each command runs 15 times in fresh processes; the median wall time is printed
with the difference to bare interpreter start-up.  Targets on the reference
machine: under 50 ms for --version and 100 ms for check (lazy imports: numpy
alone costs far more than that).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time

SOLVER = """\
# a plain LeNet solver
net: "train_val.prototxt"
test_iter: 100
test_interval: 500
base_lr: 0.01
momentum: 0.9
weight_decay: 0.0005
lr_policy: "inv"
gamma: 0.0001
power: 0.75
display: 100
max_iter: 10000
snapshot: 5000
snapshot_prefix: "lenet"
solver_mode: CPU
"""
NET = """\
name: "LeNet"
layer { name: "data" type: "Input" top: "data" input_param { shape { dim: 1 dim: 1 dim: 28 dim: 28 } } }
layer { name: "ip" type: "InnerProduct" bottom: "data" top: "ip"
        inner_product_param { num_output: 10 weight_filler { type: "xavier" } } }
layer { name: "prob" type: "Softmax" bottom: "ip" top: "prob" }
"""


# Measure start-up as an installed tool has it: with cached bytecode (pip compiles it at
# install time), even where the environment disables writing it.
ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def median_wall(argv: list[str], runs: int = 15) -> float:
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, check=False)
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=ENV, check=False)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    caffelint = [sys.executable, "-m", "caffelint"]
    with tempfile.TemporaryDirectory() as folder:
        solver = os.path.join(folder, "solver.prototxt")
        with open(solver, "w") as handle:
            handle.write(SOLVER)
        with open(os.path.join(folder, "train_val.prototxt"), "w") as handle:
            handle.write(NET)
        base = median_wall([sys.executable, "-c", "pass"])
        version = median_wall([*caffelint, "--version"])
        check = median_wall([*caffelint, "check", "--isolated", solver])
    print(f"python -c pass        {base * 1000:7.1f} ms")
    print(f"caffelint --version   {version * 1000:7.1f} ms  (+{(version - base) * 1000:.1f} ms over python)")
    print(f"caffelint check       {check * 1000:7.1f} ms  (+{(check - base) * 1000:.1f} ms over python)")


if __name__ == "__main__":
    main()
