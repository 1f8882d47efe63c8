"""Whole-corpus check: wall time of `caffelint check` over every file of ../shared/corpus.

Prints the best of three runs in fresh processes (the target is under 1 s on the
reference machine) and, for context, the number of files and findings.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    corpus = Path(os.environ.get("CAFFELINT_SHARED", REPO.parent / "shared")) / "corpus"
    argv = [sys.executable, "-m", "caffelint", "check", "--isolated", "--format", "json", str(corpus)]
    best = float("inf")
    findings = []
    for _ in range(3):
        start = time.perf_counter()
        result = subprocess.run(argv, capture_output=True, text=True, check=False)
        best = min(best, time.perf_counter() - start)
        findings = json.loads(result.stdout)
    files = sum(1 for p in corpus.rglob("*") if p.is_file() and p.name != "MANIFEST.tsv")
    print(f"caffelint check over the corpus: {files} files, {len(findings)} findings, "
          f"best wall time {best:.3f} s")


if __name__ == "__main__":
    main()
