"""Short rows copied out of a large byte array at many offsets: one numpy gather for all of them.

A sampled scan reads a few bytes at each of thousands of records scattered over
a memory-mapped file.  Copying each record's bytes of interest once, as a row,
costs one page-table walk per record; every check then reads the rows.
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view


def rows(memory: np.ndarray, starts: np.ndarray, width: int) -> tuple[np.ndarray, np.ndarray]:
    """memory[start:start + width] for each start, as one (n, width) uint8 array, and the mask of
    rows that begin earlier than asked because they would run past the end of memory.  The copy
    is a single numpy call, which lets go of the GIL."""
    last = len(memory) - width
    return sliding_window_view(memory, width)[np.minimum(starts, last)], starts > last


def starts_with(rows: np.ndarray, prefix: bytes) -> np.ndarray:
    """Which rows (of a width that is a multiple of 8) begin with `prefix`, compared 8 bytes at a time."""
    width = rows.shape[1]
    want = np.zeros(width, dtype=np.uint8)
    mask = np.zeros(width, dtype=np.uint8)
    want[:len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
    mask[:len(prefix)] = 0xFF
    words, want, mask = rows.view("<u8"), want.view("<u8"), mask.view("<u8")
    out = np.ones(len(rows), dtype=bool)
    for i in range(width // 8):
        if mask[i]:
            out &= (words[:, i] & mask[i]) == want[i]
    return out


def numbers_at(memory: np.ndarray, dtype: str) -> np.ndarray:
    """A view of `memory` (uint8) whose item i is the number of type `dtype` (little-endian
    "<u2", "<u8" ...) starting at byte i: fields at any offsets read in one indexing step."""
    width = np.dtype(dtype).itemsize
    return np.ndarray((max(0, len(memory) - width + 1),), dtype=dtype, buffer=memory, strides=(1,))

