"""Training-log reading: lines per second and peak memory on a generated 1M-line log.

A seeded simulated log (fixtures/simulate_log.py, the healthy scenario with a
display every iteration, debug_info and data restarts, ~1,000,000 lines) is
written first; then fresh processes read it, so that neither the generator's
memory nor a warm cache of another step counts.  Printed, all measured in
this one run:

- reading (caffelint.model.log.read_log): lines/s and MB/s, best of three;
- the whole `caffelint log` diagnosis (every LOG rule) on the same file;
- peak memory while reading: Python allocations (tracemalloc, a separate pass
  because tracing slows reading) and the process's peak RSS;
- that peak against the file size: memory follows the displayed points, not
  the bytes, so a 1 GB log costs roughly (1 GB / file size) × the traced peak.

    python bench/log.py [--lines 1000000]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

MEASURE = r"""
import json, resource, sys, time, tracemalloc
from caffelint.model.log import read_log
path, mode = sys.argv[1], sys.argv[2]
if mode == "trace":
    tracemalloc.start()
    log = read_log(path)
    _, peak = tracemalloc.get_traced_memory()
    points = sum(len(c) for r in log.runs for _, c in r.curves())
    print(json.dumps({"traced_peak": peak, "points": points}))
elif mode == "diagnose":
    from caffelint.config import Options
    from caffelint.logdiag import diagnose_log
    start = time.perf_counter()
    report = diagnose_log(path, Options.from_kwargs(isolated=True))
    print(json.dumps({"seconds": time.perf_counter() - start, "findings": len(report.findings)}))
else:
    start = time.perf_counter()
    log = read_log(path)
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": seconds, "lines": log.line_count, "rss": rss}))
"""

BASELINE = r"""
import json, resource
print(json.dumps({"rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}))
"""


def child(code: str, *args: str) -> dict:
    result = subprocess.run([sys.executable, "-c", code, *args], cwd=REPO, capture_output=True, text=True,
                            check=True)
    return json.loads(result.stdout)


def generate(path: Path, lines: int) -> None:
    # ~3.05 lines per iteration with display 1 (display, output, lr), plus tests, restarts, debug_info
    iterations = int(lines / 6.05)
    code = ("import sys; sys.path.insert(0, '.'); from fixtures.simulate_log import write; "
            f"write({str(path)!r}, 'converging', 1, iterations={iterations}, display=1, "
            f"test_interval={max(1000, iterations // 50)}, epoch=5000, debug_info=True)")
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lines", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "train.log"
        generate(path, args.lines)
        size = path.stat().st_size
        runs = [child(MEASURE, str(path), "time") for _ in range(3)]
        best = min(runs, key=lambda r: r["seconds"])
        traced = child(MEASURE, str(path), "trace")
        diagnosis = child(MEASURE, str(path), "diagnose")
        baseline = child(BASELINE)["rss"]
    lines = best["lines"]
    print(f"log: {lines:,} lines, {size / 1e6:.1f} MB, {traced['points']:,} curve points")
    print(f"read_log: {best['seconds']:.2f} s best of 3 = {lines / best['seconds']:,.0f} lines/s, "
          f"{size / 1e6 / best['seconds']:.1f} MB/s")
    print(f"caffelint log diagnosis (all LOG rules): {diagnosis['seconds']:.2f} s, {diagnosis['findings']} findings")
    print(f"peak memory while reading: {traced['traced_peak'] / 1e6:.1f} MB traced (Python allocations), "
          f"RSS {max(runs, key=lambda r: r['rss'])['rss'] / 1e6:.1f} MB "
          f"(an empty interpreter: {baseline / 1e6:.1f} MB)")
    print(f"traced peak / file size: {traced['traced_peak'] / size:.3f} "
          f"(a 1 GB log of the same density: ~{traced['traced_peak'] / size * 1000:.0f} MB)")


if __name__ == "__main__":
    main()
