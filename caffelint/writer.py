"""Atomic writes: temp file in the same folder, fsync, rename; mode and owner kept.

Readers see the old file or the new one, never half of either: the new bytes
go to a temporary file beside the target, which is flushed to disk and then
renamed over it.  A symlink stays a symlink: its target is written.  A target
that lies outside the repository the link sits in is only written when the
caller allows it, so a fix never edits some other project's file by surprise.
Any failure (read-only file, full disk) leaves the original untouched.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile

from caffelint.errors import InputError
from caffelint.source import repository_root


def write_bytes_atomic(path: str, data: bytes, *, follow_symlinks: bool = True) -> None:
    """Replace the file at `path` (the target, when `path` is a symlink) with `data`.

    With follow_symlinks=False a symlink whose target lies outside the
    repository holding the link (or the working directory, outside any
    repository) is refused.
    """
    target = resolve_target(path, follow_symlinks)
    folder = os.path.dirname(target) or "."
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    if st is not None and (not os.access(target, os.W_OK) or not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP
                                                                                | stat.S_IWOTH)):
        raise InputError(f"{path}: file is read-only; not written")
    try:
        fd, tmp = tempfile.mkstemp(prefix=".caffelint-", dir=folder)
    except OSError as exc:
        raise InputError(f"{path}: cannot write in {folder}: {exc.strerror}") from None
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if st is not None:
            os.chmod(tmp, st.st_mode & 0o7777)
            with contextlib.suppress(PermissionError):
                os.chown(tmp, st.st_uid, st.st_gid)
        else:
            os.chmod(tmp, 0o666 & ~_umask())  # a new file gets the mode open() would give it
        os.replace(tmp, target)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise InputError(f"{path}: write failed ({exc.strerror or exc}); the original is untouched") from None
    _sync_folder(folder)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str, text: str, *, follow_symlinks: bool = True) -> None:
    from caffelint.source import encode

    write_bytes_atomic(path, encode(text), follow_symlinks=follow_symlinks)


def resolve_target(path: str, follow_symlinks: bool) -> str:
    """The file to replace: `path` itself, or the end of its symlink chain."""
    if not os.path.islink(path):
        return os.path.abspath(path)
    target = os.path.realpath(path)
    if not follow_symlinks:
        home = _repository_of(os.path.dirname(os.path.abspath(path)))
        if os.path.commonpath([target, home]) != home:
            raise InputError(f"{path}: a symlink to {target}, outside {home}; not written "
                             "(use --follow-symlinks to write through it)")
    return target


def _repository_of(folder: str) -> str:
    """The real path of the repository holding `folder`, else of the working directory."""
    return repository_root(os.path.realpath(folder)) or os.path.realpath(os.getcwd())


def _sync_folder(folder: str) -> None:
    """Make the rename itself durable (best effort: not every system can open a folder)."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
