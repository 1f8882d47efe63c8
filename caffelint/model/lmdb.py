"""Read-only LMDB access: the one place caffelint opens an LMDB database.

Caffe reads a Data layer's source with MDB_RDONLY | MDB_NOTLS
(BVLC/caffe:src/caffe/util/db_lmdb.cpp).  We go further, so that linting can
never change a dataset or block its writer:

* readonly=True: the map is read-only and no write transaction can start;
* lock=False: lock.mdb is neither opened nor created (no reader slot is taken,
  so a writer in another process is never blocked by us);
* create=False, subdir=True: a missing folder or a folder without data.mdb is
  an error, never a new empty database (Caffe's layout is a folder holding
  data.mdb, as tools/convert_imageset.cpp writes it);
* max_readers=1, max_dbs=0: without a lock file the reader table is unused.

Before liblmdb maps the file, `read_meta` checks the two meta pages ourselves:
a truncated data.mdb (a copy interrupted half-way) would otherwise be mapped
past its end and the first read beyond it kills the process with SIGBUS.
"""

from __future__ import annotations

import contextlib
import os
import struct
from collections.abc import Iterator
from dataclasses import dataclass

DATA_FILE = "data.mdb"
MAGIC = 0xBEEFC0DE  # MDB_MAGIC in liblmdb's mdb.c
DATA_VERSION = 1  # MDB_DATA_VERSION of LMDB 0.9
PAGE_HEADER = 16  # PAGEHDRSZ on 64-bit builds: the meta follows the page header
# MDB_meta on 64-bit builds: magic, version, address, mapsize, then two MDB_db
# (FREE_DBI, MAIN_DBI: pad/psize u32, flags u16, depth u16, branch, leaf,
# overflow pages, entries, root) and finally last_pg and txnid.
_META = struct.Struct("<IIQQ" + "IHHQQQQQ" * 2 + "QQ")


class LmdbError(Exception):
    """The folder is not a readable LMDB database; the message says why, in one line."""


@dataclass(frozen=True)
class LmdbMeta:
    page_size: int
    last_page: int
    entries: int
    txnid: int
    file_size: int
    root: int = -1  # the main tree's root page (P_INVALID, all ones, when it is empty)
    depth: int = 0
    db_flags: int = 0  # MDB_DUPSORT, MDB_INTEGERKEY ... of the main database


def is_lmdb(path: str) -> bool:
    """True for a folder holding data.mdb (Caffe's LMDB layout)."""
    return os.path.isfile(os.path.join(path, DATA_FILE))


def read_meta(path: str) -> LmdbMeta:
    """The committed meta page of `path`/data.mdb, checked against the file's size."""
    data_file = os.path.join(path, DATA_FILE)
    length = PAGE_HEADER + _META.size
    try:  # unbuffered: two small reads, every scan
        fd = os.open(data_file, os.O_RDONLY | getattr(os, "O_BINARY", 0))
        try:
            size = os.fstat(fd).st_size
            first = os.read(fd, length)
            if len(first) < length:
                raise LmdbError(f"{data_file} is {size} bytes: too short for an LMDB file")
            page_size = _unpack(first, data_file)[4]
            os.lseek(fd, page_size, os.SEEK_SET)
            second = os.read(fd, length)
        finally:
            os.close(fd)
    except OSError as exc:
        raise LmdbError(f"cannot read {data_file}: {exc.strerror}") from None
    metas = [_unpack(first, data_file)]
    if len(second) == length:
        metas.append(_unpack(second, data_file))
    meta = max(metas, key=lambda m: m[-1])  # liblmdb uses the meta with the newer txnid
    last_page, txnid = meta[-2], meta[-1]
    db_flags, depth, entries, root = meta[13], meta[14], meta[18], meta[19]  # MAIN_DBI's MDB_db
    needed = (last_page + 1) * page_size
    if needed > size:
        raise LmdbError(f"{data_file} is truncated: {size} bytes, but its meta page says "
                        f"{needed} ({last_page + 1} pages of {page_size})")
    return LmdbMeta(page_size, last_page, entries, txnid, size, root, depth, db_flags)


def _unpack(buffer: bytes, data_file: str) -> tuple:
    fields = _META.unpack_from(buffer, PAGE_HEADER)
    magic, version, page_size = fields[0], fields[1], fields[4]
    if magic != MAGIC:
        if magic == int.from_bytes(MAGIC.to_bytes(4, "little"), "big"):
            raise LmdbError(f"{data_file} was written on a big-endian machine; LMDB files are not portable")
        raise LmdbError(f"{data_file} is not an LMDB file (no LMDB magic number in its first page)")
    if version != DATA_VERSION:
        raise LmdbError(f"{data_file} has LMDB data version {version}; this reader knows {DATA_VERSION}")
    if page_size < 512 or page_size & (page_size - 1):
        raise LmdbError(f"{data_file} has an impossible page size {page_size}")
    return fields


@contextlib.contextmanager
def open_readonly(path: str, meta: LmdbMeta | None = None) -> Iterator[object]:
    """An lmdb.Environment on `path`, read-only and lock-free, closed on exit."""
    import lmdb

    if meta is None:
        read_meta(path)  # checked before liblmdb maps the file
    try:
        env = lmdb.open(path, readonly=True, lock=False, create=False, subdir=True,
                        max_readers=1, max_dbs=0, readahead=True)
    except lmdb.Error as exc:
        raise LmdbError(f"{path}: cannot open as LMDB: {_describe(exc)}") from None
    try:
        yield env
    finally:
        env.close()


@contextlib.contextmanager
def read_transaction(env) -> Iterator[object]:
    """A read transaction handing out zero-copy buffers (valid until it ends)."""
    import lmdb

    try:
        txn = env.begin(buffers=True)
    except lmdb.MapResizedError:
        env.set_mapsize(0)  # another process grew the file since we opened it: map it all
        txn = env.begin(buffers=True)
    try:
        yield txn
    except lmdb.Error as exc:  # MDB_CORRUPTED, MDB_PAGE_NOTFOUND ... on a damaged file
        raise LmdbError(f"{env.path()}: LMDB read failed: {_describe(exc)}") from None
    finally:
        txn.abort()


def environment_map(path: str, meta: LmdbMeta) -> tuple[int, int] | None:
    """(address, size) of the map py-lmdb made of the database (from /proc/self/maps, Linux), or
    None where there is none to find (or nothing in the database to read through it)."""
    return _mapping_of(os.path.join(path, DATA_FILE)) if meta.entries else None


def check_tree(path: str, meta: LmdbMeta, mapping: tuple[int, int] | None) -> None:
    """Before py-lmdb walks the database, check its tree's pages ourselves (lmdb_pages.check_tree):
    liblmdb aborts the process on a branch or leaf page that is not what it expects.  The check
    reads through the environment's own map (`environment_map`), so the pages it touches are
    the ones the scan reads anyway; where there is no such map it is left out."""
    if mapping is None:
        return
    import ctypes

    import numpy as np

    from caffelint.model.lmdb_pages import PageError, damaged
    from caffelint.model.lmdb_pages import check_tree as check_pages

    size = min(mapping[1], (meta.last_page + 1) * meta.page_size)
    memory = np.frombuffer((ctypes.c_char * size).from_address(mapping[0]), dtype=np.uint8)
    memory.flags.writeable = False  # the map is read-only: a write would be a segfault
    try:
        check_pages(memory, meta)
    except PageError as exc:
        raise LmdbError(damaged(path, exc)) from None


@contextlib.contextmanager
def prefaulted(meta: LmdbMeta, mapping: tuple[int, int] | None) -> Iterator[None]:
    """While a full scan runs, map the database's pages into this process from a helper thread.

    The first read of each 4 KB page of a map is a page fault, and a scan of small
    records (one page each) spends much of its time in them: 3.3 M records/s on 1M
    3x32x32 Datums here.  MADV_POPULATE_READ (Linux 5.14) does the same work in the
    kernel, without holding the GIL, so a second thread does it ahead of the scan: 4.2 M
    records/s.  It only fills this process's page tables; the file is not touched.  Used
    for records of at most two pages: for larger ones it would read pages the scan skips.
    Anywhere else (no /proc, an older kernel) it does nothing.  `mapping` is the (address,
    size) of the map: the page reader's, or py-lmdb's (`environment_map`).
    """
    small = mapping is not None and meta.file_size <= 2 * meta.page_size * meta.entries
    if not small:
        yield
        return
    import ctypes
    import threading

    stop = threading.Event()
    address, size = mapping[0], min(mapping[1], meta.file_size)  # the map may reach past the file's end
    helper = threading.Thread(target=_populate, args=(ctypes, address, size, stop), daemon=True)
    helper.start()
    try:
        yield
    finally:
        stop.set()
        helper.join()  # before the map goes away


POPULATE_CHUNK = 32 << 20  # bytes per madvise call: the helper can stop between two
MADV_POPULATE_READ = 22  # linux/mman.h


_MADVISE: list = []  # libc's madvise, or None where there is none; looked up once


def libc_madvise(ctypes):
    """libc's madvise through ctypes (which lets go of the GIL during the call), or None."""
    if not _MADVISE:
        try:
            function = ctypes.CDLL(None, use_errno=True).madvise
            function.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
        except (OSError, AttributeError):
            function = None
        _MADVISE.append(function)
    return _MADVISE[0]


def _populate(ctypes, address: int, size: int, stop) -> None:
    madvise = libc_madvise(ctypes)
    if madvise is None:
        return
    for offset in range(0, size, POPULATE_CHUNK):
        if stop.is_set() or madvise(address + offset, min(POPULATE_CHUNK, size - offset), MADV_POPULATE_READ):
            return  # done early, or the kernel does not know the advice


def _mapping_of(data_file: str) -> tuple[int, int] | None:
    """(address, size) of this process's map of `data_file`, from /proc/self/maps (Linux)."""
    target = os.path.realpath(data_file)
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as maps:
            for line in maps:
                fields = line.split(maxsplit=5)
                if len(fields) == 6 and fields[5].rstrip("\n") == target and int(fields[2], 16) == 0:
                    low, high = (int(x, 16) for x in fields[0].split("-"))
                    return low, high - low
    except (OSError, ValueError):
        return None
    return None


def record_count(env) -> int:
    return env.stat()["entries"]


def first_key(txn) -> bytes:
    cursor = txn.cursor()
    return bytes(cursor.key()) if cursor.first() else b""


def all_values(txn) -> Iterator[memoryview]:
    """Every value in key order, as buffers (the iteration stays in C)."""
    return txn.cursor().iternext(keys=False, values=True)


def run_count(wanted: int) -> int:
    """How many runs a sample of `wanted` records is read as: 10000 gives 50 runs of 200."""
    return max(1, min(wanted, round(wanted ** 0.5 / 2)))


def run_lengths(wanted: int) -> list[int]:
    """The lengths of the runs of a sample of `wanted` records, the longer ones first."""
    count = run_count(wanted)
    length, extra = divmod(wanted, count)
    return [length + (i < extra) for i in range(count)]


def stretches(txn, total: int, wanted: int, keys_out: list | None = None) -> Iterator[Iterator[memoryview]]:
    """About `wanted` values as runs of consecutive records spread over the whole key range.

    Runs keep local order (needed to see unshuffled data); their starts come from
    `spread_keys`, so a sample of a sorted database sees every part of it.  The start
    keys are appended to `keys_out` when given.
    """
    from itertools import islice

    count = run_count(wanted)
    starts = spread_keys(txn.cursor(), count + 1)
    if len(starts) > 1:
        starts.pop()  # the database's last key would start a stretch of one record
    length, extra = divmod(wanted, len(starts) or 1)
    if keys_out is not None:
        keys_out.extend(starts)
    cursor = txn.cursor()
    last_read = None
    for i, key in enumerate(starts):
        size = length + (1 if i < extra else 0)
        if last_read is None or key > last_read:
            if not cursor.set_range(key):
                return
        elif not cursor.next():  # this run would overlap the previous one: continue after it
            return
        values = cursor.iternext(keys=False, values=True)
        yield islice(values, size)
        last_read = bytes(cursor.key()) if cursor.key() else last_read


def spread_keys(cursor, count: int) -> list[bytes]:
    """Up to `count` keys spread evenly over the key range, the first and last key included,
    found with set_range probes.

    LMDB has no access by position, so we bisect the key space: between two known
    keys we probe the key half-way between them, reading each byte position as a
    digit in the range of bytes seen there so far, widened to whole classes (any
    digit where a digit was seen: the `%08d_name` keys of convert_imageset), and
    keep whatever key set_range lands on.  convert_imageset's numbered keys need no
    halving: `_numbered_keys` probes evenly spaced record numbers directly.
    """
    if not cursor.first():
        return []
    first = bytes(cursor.key())
    cursor.last()
    last = bytes(cursor.key())
    if count <= 1 or first == last:
        return [first]
    numbered = _numbered_keys(cursor, first, last, count)
    if numbered is not None:
        return numbered
    alphabet = _Alphabet()
    alphabet.learn(first)
    alphabet.learn(last)
    found = {first, last}
    frontier = [(first, last)]
    while len(found) < 2 * count and frontier:  # twice as many as needed: even picks among them
        nxt = []
        for low, high in frontier:
            probe = alphabet.midpoint(low, high)
            if probe is None or not cursor.set_range(probe):
                continue
            key = bytes(cursor.key())
            if low < key < high:
                found.add(key)
                alphabet.learn(key)
                nxt += [(low, key), (key, high)]
        frontier = nxt
    ordered = sorted(found)
    if len(ordered) <= count:
        return ordered
    step = (len(ordered) - 1) / (count - 1)  # the first and the last key always among them
    return sorted({ordered[round(i * step)] for i in range(count)})


def _record_number(key: bytes) -> int | None:
    """n of a `%08d_<name>` key (tools/convert_imageset.cpp numbers the records it writes from 0)."""
    return int(key[:8]) if key[8:9] == b"_" and key[:8].isdigit() else None


def _numbered_keys(cursor, first: bytes, last: bytes, count: int) -> list[bytes] | None:
    """`count` keys evenly spread by record number when the first and last keys are convert_imageset's:
    one set_range probe per key at b"%08d" % n, no halving.  None when the numbers leave gaps
    (two probes land on one key): the general method then spreads by key."""
    low, high = _record_number(first), _record_number(last)
    if low is None or high is None or high - low + 1 < count:
        return None
    found = [first]
    step = (high - low) / (count - 1)
    for i in range(1, count - 1):
        if not cursor.set_range(b"%08d" % (low + round(i * step))):
            return None
        key = bytes(cursor.key())
        if key <= found[-1] or key >= last:
            return None
        found.append(key)
    found.append(last)
    return found


# A byte seen at a position stands for its whole class: a digit there means any digit may be.
_CLASSES = [(0x30, 0x39), (0x41, 0x5A), (0x61, 0x7A)]
_CLASS_LOW = [next((lo for lo, hi in _CLASSES if lo <= b <= hi), b) for b in range(256)]
_CLASS_HIGH = [next((hi for lo, hi in _CLASSES if lo <= b <= hi), b) for b in range(256)]


class _Alphabet:
    """Per byte position, the range of bytes keys may hold there, from the keys seen so far."""

    def __init__(self) -> None:
        self.low: list[int] = []
        self.high: list[int] = []

    def learn(self, key: bytes) -> None:
        lows, highs = self.low, self.high
        for i, byte in enumerate(key):
            low, high = _CLASS_LOW[byte], _CLASS_HIGH[byte]
            if i == len(lows):
                lows.append(low)
                highs.append(high)
            else:
                if low < lows[i]:
                    lows[i] = low
                if high > highs[i]:
                    highs[i] = high

    def midpoint(self, low: bytes, high: bytes) -> bytes | None:
        """A key between `low` and `high`, or None when no key can lie strictly between."""
        start = 0
        while start < min(len(low), len(high)) and low[start] == high[start]:
            start += 1
        found = None
        for width in range(2, 9):  # widen the window until the halfway point is well resolved
            positions = range(start, min(start + width, len(self.low)))
            a = self._value(low, positions)
            b = self._value(high, positions)
            if b - a >= 2:
                found = low[:start] + self._key((a + b) // 2, positions)
            if b - a >= 64:  # coarser, and the halfway point may be a key that cannot exist ("0001")
                break
        return found

    def _value(self, key: bytes, positions: range) -> int:
        value = 0
        for i in positions:
            base = self.high[i] - self.low[i] + 2  # digit 0 stands for "key ended here"
            digit = key[i] - self.low[i] + 1 if i < len(key) else 0
            value = value * base + max(0, min(digit, base - 1))
        return value

    def _key(self, value: int, positions: range) -> bytes:
        digits = []
        for i in reversed(positions):
            base = self.high[i] - self.low[i] + 2
            value, digit = divmod(value, base)
            digits.append(digit)
        out = bytearray()
        for i, digit in zip(positions, reversed(digits)):
            if digit == 0:
                break
            out.append(self.low[i] + digit - 1)
        return bytes(out)


def _describe(exc: Exception) -> str:
    text = str(exc).strip().rstrip(".")
    return text.splitlines()[0] if text else type(exc).__name__
