"""An LMDB file's B-tree read from its own pages: how caffelint scans LMDB databases.

Read through py-lmdb, each record costs a cursor step, a buffer object and a
turn of the scanner's Python loop: 1.5-2.5 M records/s on 3x32x32 Datums, and
8 ms for a sample of 10,000.  Here no record becomes a Python object.  A full
read finds the leaf pages a level at a time through the branch pages, and
then locates the records of a few dozen leaves at once with numpy: slot,
node, overflow page, value.  A sample finds each of its runs by a walk down
the tree (a few struct reads per page) and locates all of them at once.

What is left is the kernel's work: the first touch of a page of the map is a
page fault, and each value is in a page of its own.  A full read leaves that
to a helper thread ahead of it (lmdb.prefaulted), except in a file larger than
a share of memory, where it drops the pages behind it instead.  A sample's runs
are planned and located in groups, and the helper thread reads the later
groups' values while this thread plans the earlier ones; the map is released
on the helper thread too.

The layout is liblmdb's (mdb.c, LMDB 0.9, 64-bit builds), the one `read_meta`
already checks:

* page header (16 bytes): pgno u64, pad u16, flags u16, lower u16, upper u16;
  `lower` ends the u16 slot array that follows the header, one slot per node;
* node (8 bytes + key + data): size lo u16, size hi u16, flags u16, key size u16;
  a branch node keeps its child's page number in lo | hi << 16 | flags << 32;
  a leaf node with F_BIGDATA holds the u64 number of an overflow page, whose
  value starts right after that page's header.

Every page number and offset is checked before it is used.  A page that is not
as liblmdb writes it (a damaged file, or a page a writer changed under us: we
take no reader slot) raises PageError; a database this reader does not know
(sorted duplicates, sub-databases) raises Unsupported, and the caller reads it
through py-lmdb instead.  The file is opened read-only and mapped read-only.
"""

from __future__ import annotations

import contextlib
import mmap
import os
import struct
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np

from caffelint.model import page_hints
from caffelint.model.gather import numbers_at, rows
from caffelint.model.lmdb import DATA_FILE, PAGE_HEADER, LmdbMeta

P_BRANCH, P_LEAF, P_OVERFLOW = 0x01, 0x02, 0x04
F_BIGDATA = 0x01  # the node's value lives in overflow pages
NODE_HEADER = 8
MAX_DEPTH = 32  # far beyond any real tree: a cycle in damaged pages ends here
HEAD_BYTES = 16  # of each value copied out: a Datum's shape fields, data tag and length, float label
# (enough below 128 channels and 16384 pixels a side; the scanner reads a wider head from the map)
TAIL_BYTES = 8  # of each value copied out: a uint8 Datum's label and `encoded: false`
HANDOVER_WAIT = 0.05  # seconds this thread waits, at most, for an idle helper to begin a gather
GROUP_STARTS = (0.3, 0.65)  # where the runs the helper thread reads start: the second share, the first
SHARED_PIECES = 3  # the second share, handed over in this many pieces
LEAVES_PER_PART = 64  # leaf pages a full read locates at once: some 8,000 small records, a few MB of arrays
RELEASE_BEHIND_SHARE = 4  # a file larger than physical memory / this is unmapped behind a full read
SPARSE_PAGES = 2  # pages a value (on average) above which a scan asks for the pages it reads (page_hints)
_HEADER = struct.Struct("<QHHHH")  # pgno, pad, flags, lower, upper
_NODE = struct.Struct("<HHHH")  # lo, hi, flags, key size
_SLOT = struct.Struct("<H")


class PageError(Exception):
    """A page is not as liblmdb writes it: the file is damaged, or a writer changed it while it
    was read.  The message says where, in one line."""


class Unsupported(PageError):
    """A database this reader does not read (sorted duplicates, sub-databases ...), or a file it
    cannot map: py-lmdb reads it instead."""


@dataclass
class Located:
    """Records found in the file: where each value starts and how long it is, in key order."""

    offsets: np.ndarray  # int64 byte offsets into the file (and the map)
    sizes: np.ndarray  # int64 value lengths
    run_starts: list[int]  # index of each run's first record
    heads: np.ndarray  # (records, HEAD_BYTES) uint8: each value's first bytes (and what follows a short one)
    tails: np.ndarray  # (records, TAIL_BYTES) uint8: each value's last bytes (and what precedes a short one)


@dataclass
class Plan:
    """Runs found in the tree: the leaf pages they read, and where they start and end."""

    leaves: tuple[np.ndarray, np.ndarray, np.ndarray]  # leaf pages, first slots, records taken from each
    lengths: list[int]  # records in each run
    start: tuple = ()  # the position of the first run's first record: its node index per level
    end: tuple = ()  # the position just after the last run's last record


class PageReader:
    """The pages of one data.mdb, read-only.  Use as a context manager."""

    def __init__(self, path: str, meta: LmdbMeta) -> None:
        if meta.db_flags:  # sorted duplicates, integer keys ...: nodes this reader does not know
            raise Unsupported(f"database flags {meta.db_flags:#x}")
        self.meta = meta
        self.page_size = meta.page_size
        self.pages = meta.last_page + 1
        _finish_pending_unmap()
        try:
            fd = os.open(os.path.join(path, DATA_FILE), os.O_RDONLY | getattr(os, "O_BINARY", 0))
        except OSError as exc:  # gone since its meta page was read: py-lmdb says so
            raise Unsupported(f"cannot open the file: {exc.strerror}") from None
        try:  # the map keeps a descriptor of its own
            self._map = mmap.mmap(fd, self.pages * self.page_size, access=mmap.ACCESS_READ)
        except (OSError, ValueError) as exc:
            os.close(fd)
            raise Unsupported(f"cannot map the file: {exc}") from None
        self.bytes = np.frombuffer(self._map, dtype=np.uint8)
        # A full read of a file this large drops the pages it has read from the map as it goes,
        # so that it does not hold a large share of memory mapped (and its page tables).
        self.release_behind = len(self.bytes) > release_behind_above()
        # Values of more than two pages each are read at their ends only: the map is read at
        # random, and the pages wanted next are asked for ahead through this descriptor.
        sparse = meta.entries and meta.file_size > SPARSE_PAGES * meta.page_size * meta.entries
        if sparse:
            page_hints.read_at_random(self.bytes.ctypes.data, len(self.bytes))
        self._ahead: int | None = fd if sparse and page_hints.can_ask() else None
        if self._ahead is None:
            os.close(fd)
        self._headers: dict[int, tuple[int, int, int]] = {}  # page number -> (offset, flags, nodes)
        self._helpers: list = []  # the futures of the helper thread's gathers

    def __enter__(self) -> PageReader:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self, wait: bool = True) -> None:
        """Release the map.  With wait=False the unmapping is left to the helper thread: releasing
        10,000 mapped pages one by one takes up to a quarter of a sample, and nobody needs to
        wait for it (the next reader does, before it maps anything)."""
        self._stop_helper()  # before the map goes away
        if self._ahead is not None:
            os.close(self._ahead)
            self._ahead = None
        if self._map is None:
            return
        address, size = self.bytes.ctypes.data, len(self.bytes)
        self.bytes = None
        mapping, self._map = self._map, None

        def release() -> None:
            # mmap.close() keeps the GIL while the kernel drops the pages, which stalls the main
            # thread for as long; dropping them first through ctypes lets the GIL go.  The map
            # stays valid: a page read after this is faulted in again from the file.
            _drop_pages(address, size)
            with contextlib.suppress(BufferError):  # a value still in use: the map goes when it does
                mapping.close()

        if wait:
            release()
        else:
            _PENDING[:] = [_worker().submit(release)]

    def _stop_helper(self) -> None:
        for future in self._helpers:
            if not future.cancel():
                future.result()
        self._helpers = []

    # -- tree pages ----------------------------------------------------------------------
    # They are read through the map: the page fault of a leaf's first touch maps the pages
    # around it as well, which for a database written in key order are the overflow pages of
    # the leaf's own records, read next.

    def _page_offsets(self, pages: np.ndarray) -> np.ndarray:
        """Where each of the tree pages `pages` starts in the file."""
        if ((pages < 2) | (pages >= self.pages)).any():  # pages 0 and 1 are the meta pages
            raise PageError("a page number outside the file")
        return pages * self.page_size

    # -- one path at a time ------------------------------------------------------------

    def _page(self, pgno: int, kinds: int) -> tuple[int, int, int]:
        """(where page `pgno` starts in the file, its flags, its number of nodes), checked to be
        one of `kinds`; each page's header is read once."""
        seen = self._headers.get(pgno)
        if seen is None:
            if not 2 <= pgno < self.pages:
                raise PageError(f"page {pgno} is outside the file")
            base = pgno * self.page_size
            number, _pad, flags, lower, upper = _HEADER.unpack_from(self._map, base)
            nodes = (lower - PAGE_HEADER) >> 1
            if number != pgno or nodes < 1 or lower > upper or upper > self.page_size:
                raise PageError(f"page {pgno} is not a tree page where one belongs")
            seen = self._headers[pgno] = (base, flags, nodes)
        if not seen[1] & kinds:
            raise PageError(f"page {pgno} is not a tree page where one belongs")
        return seen

    def _node(self, base: int, index: int) -> int:
        """Where node `index` of the page at `base` starts in the file."""
        (slot,) = _SLOT.unpack_from(self._map, base + PAGE_HEADER + 2 * index)
        if slot < PAGE_HEADER or slot + NODE_HEADER > self.page_size or slot & 1:  # as _checked_slots
            raise PageError("a node slot points outside its page")
        return base + slot

    def _child(self, base: int, index: int) -> int:
        """The page that node `index` of the branch page at `base` points to."""
        lo, hi, high, _ = _NODE.unpack_from(self._map, self._node(base, index))
        return lo | hi << 16 | high << 32

    def first_key(self) -> bytes:
        if not self.meta.entries:
            return b""
        base = self._page(self._descend(0.0)[-1][0], P_LEAF)[0]
        node = self._node(base, 0)
        end = node + NODE_HEADER + _NODE.unpack_from(self._map, node)[3]
        if end > base + self.page_size:
            raise PageError("a key runs past the end of its page")
        return self._map[node + NODE_HEADER:end]

    def _descend(self, fraction: float) -> list[list[int]]:
        """The path [page, index, nodes, where the page starts] per level to the first record of
        the leaf at about `fraction` of the database: each level takes the child at that fraction
        of its nodes (subtrees hold about as many records each, as B-tree pages are between half
        and wholly full)."""
        path = []
        pgno = self.meta.root
        for _ in range(MAX_DEPTH):
            base, flags, nodes = self._page(pgno, P_BRANCH | P_LEAF)
            if flags & P_LEAF:
                path.append([pgno, 0, nodes, base])
                return path
            scaled = fraction * nodes
            index = min(nodes - 1, int(scaled))
            path.append([pgno, index, nodes, base])
            fraction = scaled - index
            pgno = self._child(base, index)
        raise PageError("the tree is deeper than any LMDB tree")

    def _next_leaf(self, path: list[list[int]]) -> bool:
        """Move `path` to the first record of the next leaf page; False at the end of the tree."""
        level = len(path) - 2
        while level >= 0 and path[level][1] + 1 >= path[level][2]:
            level -= 1
        if level < 0:
            return False
        path[level][1] += 1
        for depth in range(level + 1, len(path)):
            pgno = self._child(path[depth - 1][3], path[depth - 1][1])
            base, _flags, nodes = self._page(pgno, P_LEAF if depth == len(path) - 1 else P_BRANCH)
            path[depth] = [pgno, 0, nodes, base]
        return True

    # -- many records at once -----------------------------------------------------------

    def runs(self, lengths: list[int]) -> Located:
        """Runs of consecutive records, one per entry of `lengths`, the first at the start of the
        database and the others spread evenly over it.  A run that would reach into the next
        one's records makes that one continue after it, so no record is read twice."""
        if not self.meta.entries or not lengths:
            empty = np.zeros(0, np.int64)
            return Located(empty, empty, [], np.zeros((0, HEAD_BYTES), np.uint8), np.zeros((0, TAIL_BYTES), np.uint8))
        count = len(lengths)
        shared, late = (min(count, max(1, round(count * share))) for share in GROUP_STARTS)
        # The last runs are planned and located first, and the helper thread starts copying out
        # their values' first and last bytes (mapping their pages).  This thread then plans and
        # locates the other runs at once, hands the later of them to the helper in a few pieces,
        # reads the first ones, and then the pieces the helper has not begun by then.
        plans, pieces = [], []
        if late < count:
            plans.append(self._walk(lengths, late, count))
            pieces.append(self._rows(*self._locate(*plans[0].leaves)))
            self._hand_over(pieces[0])
        plans.insert(0, self._walk(lengths, 0, late))
        if len(plans) > 1 and plans[0].end > plans[1].start:  # they would read records twice
            self._stop_helper()
            plans, pieces = [self._walk(lengths, 0, count)], []
        located = self._locate(*plans[0].leaves)
        early = self._split(located, sum(plans[0].lengths[:shared]), SHARED_PIECES)
        for piece in early[1:]:
            self._hand_over(piece)
        early[0].read()
        for piece in reversed(early[1:]):
            if piece.future is not None and not piece.future.cancel():
                break  # begun: so are the ones before it
            piece.read()
        pieces = early + pieces
        parts = [piece.result() for piece in pieces]
        self._helpers = []
        pairs = [_ValueRows.heads_and_tails(part) for part in parts]  # each copied once, not the rows
        heads, tails = (np.concatenate([pair[i] for pair in pairs]) for i in (0, 1))
        offsets, sizes = (np.concatenate([getattr(piece, name) for piece in pieces]) for name in ("offsets", "sizes"))
        read = np.array([length for plan in plans for length in plan.lengths], dtype=np.int64)
        return Located(offsets, sizes, (np.cumsum(read) - read).tolist(), heads, tails)

    def every_record(self, leaves_per_part: int | None = None) -> Iterator[Located]:
        """Every record in key order, a part of `leaves_per_part` (LEAVES_PER_PART) leaf pages at
        a time, each part one run; the leaves are found through the branch pages first.  At the
        end, the records found must be as many as the meta page says."""
        leaves_per_part = leaves_per_part or LEAVES_PER_PART
        leaves = leaf_pages(self.bytes, self.meta)
        found = 0
        before = None  # (start, end) in the file of the values of the part before, to release
        self._ask_for_pages(leaves[:leaves_per_part])
        for first in range(0, len(leaves), leaves_per_part):
            pages = leaves[first:first + leaves_per_part]
            offsets, sizes, big = self._locate(pages, np.zeros_like(pages), leaf_nodes(self.bytes, self.meta, pages))
            rows = self._rows(offsets, sizes, big)
            self._ask_for_pages(leaves[first + leaves_per_part:first + 2 * leaves_per_part])  # the next part's
            if self.release_behind and len(offsets):
                span = int(offsets.min()), int((offsets + sizes).max())
                if before is not None:  # up to this part's values, which may lie in between
                    self._release(before[0], min(before[1], span[0]))
                before = span
            heads, tails = _ValueRows.heads_and_tails(rows.result())
            found += len(offsets)
            yield Located(offsets, sizes, [0], heads, tails)
        if found != self.meta.entries:
            raise PageError(f"the tree holds {found} records where its meta page says {self.meta.entries}")

    def _release(self, start: int, end: int) -> None:
        """Drop the whole memory pages within bytes start .. end of the file from the map; a page
        read again is mapped again from the file."""
        start, end = -(-start // mmap.PAGESIZE) * mmap.PAGESIZE, end // mmap.PAGESIZE * mmap.PAGESIZE
        if end > start:
            _drop_pages(self.bytes.ctypes.data + start, end - start)

    def _split(self, located: tuple, cut: int, rest: int) -> list[_ValueRows]:
        """The located values as pieces: the first `cut` of them, then `rest` even ones."""
        bounds = [0, *np.linspace(cut, len(located[0]), rest + 1).astype(np.int64).tolist()]
        return [self._rows(*(column[a:b] for column in located)) for a, b in zip(bounds, bounds[1:])]

    def _rows(self, offsets: np.ndarray, sizes: np.ndarray, big: np.ndarray) -> _ValueRows:
        """The rows of these values, their pages asked for."""
        rows = _ValueRows(self.bytes, offsets, sizes, big)
        if self._ahead is not None:
            self._ask_for_pages(rows.pages(self.page_size))
        return rows

    def _ask_for_pages(self, pages: np.ndarray) -> None:
        """Have the kernel start reading these pages, where values are read sparsely."""
        if self._ahead is not None and not page_hints.ask_for_pages(self._ahead, np.unique(pages), self.page_size):
            self._ahead = None  # refused: it will be every time

    def ask_for_values(self, offsets: np.ndarray, sizes: np.ndarray) -> None:
        """Have the kernel start reading these values whole (the few whose pixels are looked at),
        where values are read sparsely."""
        if self._ahead is not None and not page_hints.ask_for_ranges(self._ahead, offsets, sizes):
            self._ahead = None

    def _walk(self, lengths: list[int], first: int, stop: int) -> Plan:
        """The plan of runs first .. stop - 1 of `lengths`, one after the other along a path
        through the tree: run k starts at the first record of the leaf at k / len(lengths) of
        the database, or right after run k - 1 where that would overlap it; the runs stop at
        the end of the tree.  (A scalar walk: a few struct reads a page, cheaper than arrays
        for the hundred-odd pages of a sample.)"""
        pages, firsts, takes, lengths_read = [], [], [], []
        start = after = None  # positions: the node index per level
        path: list[list[int]] = []
        for run in range(first, stop):
            descent = self._descend(run / len(lengths))
            if after is None or [step[1] for step in descent] >= after:
                path = descent
            start = start if start is not None else tuple(step[1] for step in path)
            wanted = lengths[run]
            while wanted:
                pgno, index, nodes, _base = path[-1]
                take = min(wanted, nodes - index)
                pages.append(pgno)
                firsts.append(index)
                takes.append(take)
                wanted -= take
                path[-1][1] = index + take
                if path[-1][1] == nodes and wanted and not self._next_leaf(path):
                    break
            lengths_read.append(lengths[run] - wanted)
            after = [step[1] for step in path]
            if wanted:  # the end of the database: nothing comes after this run
                break
        return Plan((np.array(pages, np.int64), np.array(firsts, np.int64), np.array(takes, np.int64)),
                    lengths_read, start or (), tuple(after or ()))

    def _locate(self, pages: np.ndarray, firsts: np.ndarray, takes: np.ndarray):
        """(offsets, sizes, in overflow pages) of the values in slots first .. first + take - 1
        of each leaf page."""
        psize = self.page_size
        memory = self.bytes
        # slot i of a page's records is at page start + header + 2 * (first + i)
        slot_at = np.repeat(self._page_offsets(pages) + PAGE_HEADER + 2 * (firsts - np.cumsum(takes) + takes), takes)
        slot_at += 2 * np.arange(len(slot_at))
        base = slot_at & -psize  # the page's start
        slots = _checked_slots(numbers_at(memory, "<u2")[slot_at], psize)
        header = _node_headers(memory, base + slots)
        sizes = (header & 0xFFFF_FFFF).astype(np.int64)
        flags = header >> 32 & 0xFFFF
        offsets = base + slots + NODE_HEADER + (header >> 48).astype(np.int64)  # the data, in its page
        big = flags == F_BIGDATA
        if (flags > F_BIGDATA).any():
            raise Unsupported("leaf nodes with sub-databases or duplicates")
        if (offsets - base + np.where(big, 8, sizes) > psize).any():
            raise PageError("a leaf node runs past the end of its page")
        every = big.all()  # the usual case of image records: no masks
        if every or big.any():
            overflow = numbers_at(memory, "<u8")[offsets if every else offsets[big]].astype(np.int64)
            starts = overflow * psize + PAGE_HEADER
            if ((overflow < 2) | (starts + (sizes if every else sizes[big]) > self.pages * psize)).any():
                raise PageError("a value's overflow pages lie outside the file")
            if every:
                offsets = starts
            else:
                offsets[big] = starts
        return offsets, sizes, big

    def _hand_over(self, piece: _ValueRows) -> None:
        """`piece.gather` in the helper thread, when it holds enough values in overflow pages to
        be worth it: numpy lets go of the GIL while it gathers, so two threads fault pages side
        by side.  When the helper is idle, returns once it has begun: a thread waiting for the
        GIL would otherwise wait until this one's Python code gives it up, which may be
        milliseconds."""
        if np.count_nonzero(piece.big) < 256:
            return
        import threading

        begun = threading.Event()

        def gather():
            begun.set()
            return piece.gather()

        idle = not self._helpers  # else it takes this piece up when it ends the one before
        piece.future = _worker().submit(gather)
        self._helpers.append(piece.future)
        if idle:  # polled, not waited for: waking this thread up again costs as much as the wait
            deadline = time.perf_counter() + HANDOVER_WAIT
            while not begun.is_set() and time.perf_counter() < deadline:
                time.sleep(0)  # lets go of the GIL, which the helper needs to begin


def _node_headers(memory: np.ndarray, at: np.ndarray) -> np.ndarray:
    """The 8-byte headers of the nodes at offsets `at` of `memory`, each as one u64: a leaf
    node's data size in bits 0-31 (a branch node's child page in bits 0-47), its flags in bits
    32-47, its key size in bits 48-63."""
    return numbers_at(memory, "<u8")[at]


def _node_slots(memory: np.ndarray, base: np.ndarray, index: np.ndarray, page_size: int) -> np.ndarray:
    """Where nodes `index` of the pages at `base` of `memory` start, within their pages."""
    return _checked_slots(numbers_at(memory, "<u2")[base + PAGE_HEADER + 2 * index], page_size)


def _checked_slots(slots: np.ndarray, page_size: int) -> np.ndarray:
    """Node slots (u16) as int64, each checked to lie inside its page at an even offset."""
    slots = slots.astype(np.int64)
    if ((slots < PAGE_HEADER) | (slots > page_size - NODE_HEADER) | (slots & 1)).any():
        raise PageError("a node slot points outside its page")
    return slots


def _within(counts: np.ndarray) -> np.ndarray:
    """0 .. count - 1 for each of `counts`, one after the other."""
    return np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)


def damaged(path: str, exc: PageError) -> str:
    """The one-line message for a database whose pages are not as liblmdb writes them."""
    return f"{path}: {exc}: the database is damaged, or was rewritten while it was read"


class _ValueRows:
    """The first HEAD_BYTES and last TAIL_BYTES of each value, and the header flags of the first
    page of each value in overflow pages.  Reading them maps the values' pages; both rows of a
    value are copied out in one gather, one after the other, so that each page is looked up
    once (a second pass over 10,000 pages costs a fifth more).  `gather` is the one step that
    may run in another thread: it is a single numpy call, which lets go of the GIL."""

    WIDTH = 8 + HEAD_BYTES  # from 8 bytes before the value: a value in overflow pages starts 16
    # bytes into its page, whose flags are at 10

    def __init__(self, memory: np.ndarray, offsets: np.ndarray, sizes: np.ndarray, big: np.ndarray) -> None:
        starts = np.empty(2 * len(offsets), dtype=np.int64)
        starts[0::2] = offsets - 8
        starts[1::2] = np.maximum(offsets + sizes - self.WIDTH, 0)
        self._memory, self._starts = memory, starts
        self.offsets, self.sizes, self.big = offsets, sizes, big
        self.future = None  # the helper thread's gather, once handed over
        self._checked: np.ndarray | None = None

    def gather(self) -> tuple[np.ndarray, np.ndarray]:
        return rows(self._memory, self._starts, self.WIDTH)

    def pages(self, page_size: int) -> np.ndarray:
        """The numbers of the pages the rows lie in (a page may be named twice)."""
        return np.concatenate((self._starts // page_size, (self._starts + self.WIDTH - 1) // page_size))

    def check(self, gathered: tuple[np.ndarray, np.ndarray]) -> np.ndarray:
        """The rows `gather` returned, those for values at the very end of the file completed, once
        the first page of each value in overflow pages is found to be one (its flags' low byte)."""
        both, clipped = gathered
        for i in np.flatnonzero(clipped).tolist():  # rows that would run past the end of the file
            piece = self._memory[self._starts[i]:]
            both[i] = np.pad(piece, (0, self.WIDTH - len(piece)))
        if (both[0::2][self.big, 2] & P_OVERFLOW == 0).any():
            raise PageError("a value's first page is not an overflow page")
        return both

    def read(self) -> None:
        """Gather and check the rows in this thread."""
        self._checked = self.check(self.gather())

    def result(self) -> np.ndarray:
        """The checked rows: read here, or by the helper (waiting for it), or now."""
        if self._checked is None:
            if self.future is not None and not self.future.cancelled():
                self._checked = self.check(self.future.result())
            else:
                self.read()
        return self._checked

    @classmethod
    def heads_and_tails(cls, both: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each value's first HEAD_BYTES and last TAIL_BYTES, as views of checked rows."""
        return both[0::2, 8:], both[1::2, cls.WIDTH - TAIL_BYTES:]


def check_tree(memory: np.ndarray, meta: LmdbMeta) -> int:
    """Raise PageError unless every branch and leaf page of the main tree is what liblmdb expects
    where a branch node points: liblmdb asserts on that in the middle of a cursor walk, and the
    assertion aborts the process.  `memory` is the whole file; only page headers, slot arrays
    and branch nodes are read, a level of the tree at a time.  Returns the number of leaves."""
    leaves = leaf_pages(memory, meta)
    leaf_nodes(memory, meta, leaves)
    return len(leaves)


def leaf_pages(memory: np.ndarray, meta: LmdbMeta) -> np.ndarray:
    """The main tree's leaf pages in key order, found a level at a time through the branch pages,
    which are checked on the way (the leaves themselves are not read: see `leaf_nodes`)."""
    if not meta.entries:
        return np.zeros(0, dtype=np.int64)
    if not 1 <= meta.depth <= MAX_DEPTH:
        raise PageError(f"the meta page gives the tree a depth of {meta.depth}")
    level = np.array([meta.root], dtype=np.int64)
    for _ in range(meta.depth - 1):
        counts = _level_nodes(memory, meta, level, P_BRANCH)
        base = np.repeat(level * meta.page_size, counts)  # every node of every page of this level
        node = _node_headers(memory, base + _node_slots(memory, base, _within(counts), meta.page_size))
        level = (node & 0xFFFF_FFFF_FFFF).astype(np.int64)
    return level


def leaf_nodes(memory: np.ndarray, meta: LmdbMeta, leaves: np.ndarray) -> np.ndarray:
    """The number of nodes on each of the leaf pages `leaves`, once each is found to be a leaf."""
    return _level_nodes(memory, meta, leaves, P_LEAF)


def _level_nodes(memory: np.ndarray, meta: LmdbMeta, level: np.ndarray, kind: int) -> np.ndarray:
    """The number of nodes on each page of `level`, once each is found to be a page of `kind`
    (P_BRANCH or P_LEAF) as a branch node points to one."""
    if ((level < 2) | (level > meta.last_page)).any():  # pages 0 and 1 are the meta pages
        raise PageError("a branch node points outside the file")
    head = rows(memory, level * meta.page_size, PAGE_HEADER)[0]
    fields = head.view("<u2").astype(np.int64)
    flags, lower, upper = fields[:, 5], fields[:, 6], fields[:, 7]
    counts = (lower - PAGE_HEADER) >> 1
    bad = (head.view("<u8")[:, 0] != level) | (flags & kind == 0) | (counts < 1) | (lower > upper) \
        | (upper > meta.page_size)
    if bad.any():
        name = "leaf" if kind == P_LEAF else "branch"
        raise PageError(f"page {int(level[bad.argmax()])} is not the {name} page a branch node points to")
    return counts


_WORKER: dict = {}  # process id -> the helper thread's executor, made on first use and kept
_PENDING: list = []  # an unmapping the helper thread may still be doing


def _worker():
    """The helper thread's executor.  Keyed by process: a child made by fork has no thread behind
    its parent's executor, and would wait for ever on it."""
    executor = _WORKER.get(os.getpid())
    if executor is None:
        from concurrent.futures import ThreadPoolExecutor

        _WORKER.clear()
        _PENDING.clear()  # the parent's unmapping: not this process's to wait for
        executor = _WORKER[os.getpid()] = ThreadPoolExecutor(max_workers=1, thread_name_prefix="caffelint-pages")
    return executor


def _drop_pages(address: int, size: int) -> None:
    """Drop a read-only file map's pages from this process (MADV_DONTNEED, Linux), the GIL let
    go; where that call is missing, mmap.close() does the work instead."""
    page_hints.advise_map(address, size, page_hints.MADV_DONTNEED)


def release_behind_above() -> int:
    """The file size above which a full read releases the pages behind it: a share of physical
    memory, or no limit where that is unknown."""
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE") // RELEASE_BEHIND_SHARE
    except (AttributeError, ValueError, OSError):
        return sys.maxsize


def _finish_pending_unmap() -> None:
    """Wait for an unmapping left to the helper thread: two maps' page work never overlaps."""
    if _PENDING and os.getpid() in _WORKER:
        _PENDING.pop().result()
