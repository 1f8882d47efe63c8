"""Data scan speed and memory: caffelint's LMDB label scan against raw iteration and naive parsing.

Builds LMDBs of 100k and 1M Datums (3x32x32 uint8, random labels 0-9, keys
`%08d_name` as convert_imageset writes them) in a temporary folder, removed at
the end, and prints, measured in this one run with a warm page cache (the best
of five rounds in which the methods take turns):

  (a) raw cursor iteration over keys and values (buffers=True)
  (b) naive Datum.ParseFromString, a new Datum per record
  (c) caffelint's full label scan (scan_lmdb: labels, shapes, runs, pixel sample): the
      records of 64 leaf pages at a time located in the file's own pages and checked
      against the fixed layout with numpy, the pages mapped ahead by a helper thread
  (d) caffelint's --sample 10000: 50 runs of 200 records found in the file's own B-tree
      pages and read all at once (model/lmdb_pages.py)

Then the kernel's part alone: mapping just the pages the sample reads against mapping every
page of the file, on one thread, and the sample's pages again shared by two threads as (c)
shares its own.  Each value sits in a page of its own and both scans map every page they
read, so the sample's page work on two threads over (c) bounds (d)/(c) from below: no
sample can be faster than mapping its pages, before it has walked the tree to find them.

Both (c) and (d) leave the release of the pages they mapped to a helper thread, while
the caller goes on (the next scan waits for it): that time is not in (c) or (d), and is
printed beside each.

with the ratios (c)/(b) and (c)/(a) in records/s and (d)/(c) in time; then the
memory of a full scan at each size, in a fresh process: tracemalloc's peak
Python heap and the growth of anonymous RSS (RssAnon in /proc/self/status; the
LMDB map is file-backed and does not count).  Targets: (c) >= 2x (b),
(c) >= 0.5x (a), (d) under 1% of (c), memory flat from 100k to 1M.

Last, ImageNet-sized records (3x256x256, 49 pages each) with the page cache dropped before
each scan (Linux): the time and the bytes read from storage (/proc/self/io) of a full scan
and of --sample 1000, with the advice that reads only the pages the scan needs
(model/page_hints.py) and without it.  On this machine's virtual disk a read costs less
than on most real ones; the bytes read do not depend on the disk.

    python bench/data.py              # 100k and 1M (needs about 5.5 GB of disk)
    python bench/data.py --sizes 100000 --large 0
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

SAMPLE = 10000
PASSES = 5  # rounds; each method keeps its best time


def build(path: Path, records: int) -> None:
    import numpy as np

    from caffelint.schema.caffe_pb2 import Datum
    from fixtures.build_data import write_lmdb

    rng = np.random.default_rng(0)
    labels = rng.integers(0, 10, records)
    pixels = rng.integers(0, 256, 3 * 32 * 32, dtype=np.uint8).tobytes()

    def values():
        for label in labels.tolist():
            # as convert_imageset writes them (CVMatToDatum also sets encoded: false)
            yield Datum(channels=3, height=32, width=32, data=pixels, label=label,
                        encoded=False).SerializeToString()

    write_lmdb(path, values(), (f"img{i}.png" for i in range(records)), map_size=records * 8192)


def raw_iteration(path: str) -> int:
    import lmdb

    env = lmdb.open(path, readonly=True, lock=False, create=False, max_readers=1)
    count = 0
    with env.begin(buffers=True) as txn:
        for _key, _value in txn.cursor():
            count += 1
    env.close()
    return count


def naive_parse(path: str) -> int:
    import lmdb

    from caffelint.schema.caffe_pb2 import Datum

    env = lmdb.open(path, readonly=True, lock=False, create=False, max_readers=1)
    counts = [0] * 10
    with env.begin(buffers=True) as txn:
        for _key, value in txn.cursor():
            datum = Datum()  # a fresh message: reusing one keeps every record alive under upb
            datum.ParseFromString(value)
            counts[datum.label] += 1
    env.close()
    return sum(counts)


def caffelint_scan(path: str, sample: int | None = None) -> int:
    from caffelint.model.datascan import scan_lmdb

    scan = scan_lmdb(path, sample)
    assert scan.error is None and scan.labels.records == scan.scanned, scan.error
    return scan.scanned


def best_times(path: str, passes: int) -> dict[str, float]:
    """The best time of each method over `passes` rounds, the methods taking turns within a round
    (so that load from other processes on the machine hits them alike)."""
    from caffelint.model.lmdb_pages import _finish_pending_unmap

    methods = {"raw": (raw_iteration,), "naive": (naive_parse,), "scan": (caffelint_scan,),
               "sample": (caffelint_scan, SAMPLE)}
    best = dict.fromkeys([*methods, "scan_release", "sample_release"], float("inf"))
    for _ in range(passes):
        for name, (func, *args) in methods.items():
            start = time.perf_counter()
            func(path, *args)
            best[name] = min(best[name], time.perf_counter() - start)
            start = time.perf_counter()
            _finish_pending_unmap()  # caffelint's map, released on the helper thread
            if f"{name}_release" in best:
                best[f"{name}_release"] = min(best[f"{name}_release"], time.perf_counter() - start)
    return best


def page_work(path: str, passes: int) -> dict[str, float] | None:
    """The kernel's part alone (Linux): mapping the pages the sample reads, on one thread and shared
    by two, and all the pages of the file on one (MADV_POPULATE_READ), best of `passes`."""
    import ctypes
    import threading

    import numpy as np

    from caffelint.model import lmdb
    from caffelint.model.lmdb_pages import PageReader, _finish_pending_unmap

    madvise = lmdb.libc_madvise(ctypes)
    if madvise is None or not sys.platform.startswith("linux"):
        return None
    meta = lmdb.read_meta(path)
    with PageReader(path, meta) as reader:
        pages = np.unique(reader.runs(lmdb.run_lengths(SAMPLE)).offsets // meta.page_size)
    stretches = np.split(pages, np.flatnonzero(np.diff(pages) != 1) + 1)  # one call per stretch
    halves = stretches[:len(stretches) // 2], stretches[len(stretches) // 2:]

    def populate(base: int, parts: list) -> None:
        for part in parts:
            madvise(base + int(part[0]) * meta.page_size, len(part) * meta.page_size, lmdb.MADV_POPULATE_READ)

    best = {"sample_pages": float("inf"), "sample_pages_two": float("inf"), "file_pages": float("inf")}
    for _ in range(passes):
        for name in best:
            _finish_pending_unmap()
            with PageReader(path, meta) as reader:
                base = reader.bytes.ctypes.data
                start = time.perf_counter()
                if name == "sample_pages":
                    populate(base, stretches)
                elif name == "sample_pages_two":
                    helper = threading.Thread(target=populate, args=(base, halves[1]))
                    helper.start()
                    populate(base, halves[0])
                    helper.join()
                else:
                    madvise(base, len(reader.bytes), lmdb.MADV_POPULATE_READ)
                best[name] = min(best[name], time.perf_counter() - start)
    return {**best, "sample_page_count": len(pages), "file_page_count": meta.last_page + 1}


def cold_scans(path: Path, passes: int = 3) -> dict[str, tuple[float, int]]:
    """(best seconds, bytes read from storage) of a full scan and a --sample of 1000, each started
    with the file out of the page cache, with the page advice (model/page_hints.py) and without."""
    from caffelint.model import lmdb_pages
    from caffelint.model.lmdb_pages import _finish_pending_unmap
    from fixtures.page_cache import drop, read_from_storage

    results: dict[str, tuple[float, int]] = {}
    for advice in (True, False):
        for sample in (None, 1000):
            name = f"{'full' if sample is None else 'sample'}{'' if advice else ' without'}"
            saved = lmdb_pages.SPARSE_PAGES
            lmdb_pages.SPARSE_PAGES = saved if advice else float("inf")
            try:
                for _ in range(passes):
                    if not drop(path / "data.mdb"):
                        raise SystemExit(f"{path} stays in memory on this file system: nothing to measure")
                    before, start = read_from_storage(), time.perf_counter()
                    caffelint_scan(str(path), sample)
                    seconds = time.perf_counter() - start
                    _finish_pending_unmap()
                    read = read_from_storage() - before
                    results[name] = min(results.get(name, (seconds, read)), (seconds, read))
            finally:
                lmdb_pages.SPARSE_PAGES = saved
    return results


def report_cold(records: int, size: int, results: dict[str, tuple[float, int]]) -> None:
    print(f"\n{records:,} records of 3x256x256 uint8 Datums ({size / 1e9:.2f} GB), "
          "the page cache dropped before each scan")
    for kind in ("full", "sample"):
        (with_s, with_b), (without_s, without_b) = results[kind], results[f"{kind} without"]
        label = "full scan" if kind == "full" else "--sample 1000"
        print(f"  {label:14} {with_s:6.3f} s, {with_b / 1e6:7.1f} MB read; without the page advice "
              f"{without_s:6.3f} s, {without_b / 1e6:7.1f} MB: {without_s / with_s:.1f}x the time, "
              f"{without_b / max(with_b, 1):.0f}x the reads")


def rss_anon_kb() -> int:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("RssAnon:"):
                return int(line.split()[1])
    return 0


def memory_probe(path: str) -> None:
    """Run in a fresh process: print the heap peak and RssAnon growth of one full scan as JSON."""
    import tracemalloc

    import numpy  # noqa: F401 - imported before the baseline, as caffelint's scan imports it

    from caffelint.model import datascan, datum, labels, lmdb  # noqa: F401

    before = rss_anon_kb()
    tracemalloc.start()
    caffelint_scan(path)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(json.dumps({"heap_peak": peak, "rss_anon_growth_kb": rss_anon_kb() - before}))


def measure(path: Path, records: int) -> dict:
    assert raw_iteration(str(path)) == records  # and the page cache is warm
    assert caffelint_scan(str(path), SAMPLE) == SAMPLE
    best = best_times(str(path), PASSES)
    work = page_work(str(path), PASSES)
    probe = subprocess.run([sys.executable, __file__, "--memory-probe", str(path)], capture_output=True,
                           text=True, check=True)
    return {"records": records, "raw": records / best["raw"], "naive": records / best["naive"],
            "scan": records / best["scan"], "scan_time": best["scan"], "sample_time": best["sample"],
            "scan_release": best["scan_release"], "sample_release": best["sample_release"], "sampled": SAMPLE,
            "page_work": work, **json.loads(probe.stdout)}


def report(row: dict) -> None:
    print(f"\n{row['records']:,} records of 3x32x32 uint8 Datums")
    print(f"  (a) raw cursor iteration, keys+values   {row['raw'] / 1e6:6.2f} M records/s")
    print(f"  (b) naive Datum.ParseFromString          {row['naive'] / 1e6:6.2f} M records/s")
    print(f"  (c) caffelint label scan (full)          {row['scan'] / 1e6:6.2f} M records/s"
          f"   ({row['scan_time']:.3f} s; then {row['scan_release'] * 1000:.0f} ms releasing its map)")
    print(f"  (d) caffelint --sample {SAMPLE}            {row['sample_time'] * 1000:9.1f} ms"
          f"   ({row['sampled']:,} records; then {row['sample_release'] * 1000:.1f} ms releasing its map)")
    print(f"  (c)/(b) = {row['scan'] / row['naive']:.2f}x   (c)/(a) = {row['scan'] / row['raw']:.2f}x   "
          f"(d)/(c) = {100 * row['sample_time'] / row['scan_time']:.2f}% of the full scan's time")
    work = row["page_work"]
    if work:
        print(f"  page work alone, one thread: the sample's {work['sample_page_count']:,} pages "
              f"{work['sample_pages'] * 1000:.2f} ms, the file's {work['file_page_count']:,} pages "
              f"{work['file_pages']:.3f} s = {100 * work['sample_pages'] / work['file_pages']:.2f}%")
        print(f"  the sample's pages shared by two threads: {work['sample_pages_two'] * 1000:.2f} ms "
              f"= {100 * work['sample_pages_two'] / row['scan_time']:.2f}% of (c), the least (d)/(c) can be")
    print(f"  full-scan memory: Python heap peak {row['heap_peak'] / 2**20:.2f} MiB, "
          f"RssAnon growth {row['rss_anon_growth_kb'] / 1024:.1f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--large", type=int, default=5_000,
                        help="ImageNet-sized records for the cold-cache scans (0: none; about 200 kB of disk each)")
    parser.add_argument("--memory-probe", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_probe:
        memory_probe(args.memory_probe)
        return
    folder = Path(tempfile.mkdtemp(prefix="caffelint-bench-"))
    try:
        rows = []
        for size in args.sizes:
            path = folder / f"bench_{size}_lmdb"
            start = time.perf_counter()
            build(path, size)
            print(f"built {size:,} records in {time.perf_counter() - start:.1f} s", flush=True)
            rows.append(measure(path, size))
            report(rows[-1])
            shutil.rmtree(path)
        if len(rows) > 1:
            small, large = rows[0], rows[-1]
            print(f"\nmemory from {small['records']:,} to {large['records']:,} records: heap peak "
                  f"{small['heap_peak'] / 2**20:.2f} -> {large['heap_peak'] / 2**20:.2f} MiB, RssAnon growth "
                  f"{small['rss_anon_growth_kb'] / 1024:.1f} -> {large['rss_anon_growth_kb'] / 1024:.1f} MiB")
        from fixtures import build_data, page_cache

        if args.large and page_cache.measurable():
            import numpy as np

            path = folder / "bench_large_lmdb"
            build_data.imagenet_sized_lmdb(path, labels=np.random.default_rng(1).integers(0, 1000, args.large).tolist())
            report_cold(args.large, (path / "data.mdb").stat().st_size, cold_scans(path))
            shutil.rmtree(path)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
