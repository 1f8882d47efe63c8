"""Advice to the kernel for a scan that reads a few pages of each large value: which pages
it reads next, and that it reads no others.

A Datum of a large image spans many pages (a 3x256x256 one, 49), and the scan reads
only its first and last bytes.  Left to itself, the kernel reads around every page
fault of a file map (128 KB by default), which for such values is nearly the whole file,
one fault at a time.  A map advised MADV_RANDOM reads only the page that faults, and
POSIX_FADV_WILLNEED on the pages wanted next starts all their reads at once, so the device
serves many of them at a time.  A full scan of 5,000 3x256x256 Datums (1.0 GB) whose pages
were not in memory read 1,004 MB in 0.59 s without this advice and 47 MB in 0.07 s with it
(bench/data.py).  MADV_RANDOM also stops the kernel mapping each fault's neighbours, which
the scan skips, so a scan whose pages are in memory is faster too: 0.078 s against 0.109 s
for 10,000 such records.

It is only advice: it changes no data and no result, and where a call is missing or
refused, the scan reads as it did.  Linux; elsewhere it does nothing.
"""

from __future__ import annotations

import os
import sys

import numpy as np

MADV_RANDOM, MADV_DONTNEED = 1, 4  # linux/mman.h


def advise_map(address: int, size: int, advice: int) -> None:
    """madvise on bytes address .. address + size of a map, the GIL let go (through ctypes);
    Linux only, elsewhere nothing."""
    if not sys.platform.startswith("linux"):
        return
    import ctypes

    from caffelint.model.lmdb import libc_madvise

    advise = libc_madvise(ctypes)
    if advise is not None:
        advise(address, size, advice)


def read_at_random(address: int, size: int) -> None:
    """Advise the map at `address` that it is read at random: no reading around a fault."""
    advise_map(address, size, MADV_RANDOM)


def can_ask() -> bool:
    """Whether this system takes POSIX_FADV_WILLNEED."""
    return sys.platform.startswith("linux") and hasattr(os, "posix_fadvise")


def ask_for_pages(fd: int, pages: np.ndarray, page_size: int) -> bool:
    """Start reading `pages` (page numbers, sorted, each once) of the file `fd` into memory,
    without waiting for them: one call per stretch of consecutive pages.  False if the kernel
    refuses."""
    if not len(pages):
        return True
    breaks = np.flatnonzero(np.diff(pages) != 1) + 1
    firsts = pages[np.concatenate(([0], breaks))].tolist()
    lasts = pages[np.concatenate((breaks - 1, [len(pages) - 1]))].tolist()
    return ask_for_ranges(fd, [first * page_size for first in firsts],
                          [(last - first + 1) * page_size for first, last in zip(firsts, lasts)])


def ask_for_ranges(fd: int, offsets, sizes) -> bool:
    """Start reading bytes offset .. offset + size of the file `fd` for each pair, without
    waiting for them.  False if the kernel refuses (a file system that takes no advice)."""
    try:
        for offset, size in zip(offsets, sizes):
            os.posix_fadvise(fd, int(offset), int(size), os.POSIX_FADV_WILLNEED)
    except OSError:
        return False
    return True
