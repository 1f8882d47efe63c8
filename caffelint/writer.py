"""Atomic writes: temp file in the same folder, fsync, rename; mode and owner kept."""

from __future__ import annotations

import contextlib
import os
import tempfile

from caffelint.errors import InputError


def write_bytes_atomic(path: str, data: bytes) -> None:
    """Replace `path` with `data` so that readers see the old or the new file, never half."""
    folder = os.path.dirname(os.path.abspath(path)) or "."
    try:
        st = os.stat(path)
    except FileNotFoundError:
        st = None
    if st is not None and not os.access(path, os.W_OK):
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
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise InputError(f"{path}: write failed ({exc.strerror or exc}); the original is untouched") from None


def write_text_atomic(path: str, text: str) -> None:
    from caffelint.source import encode

    write_bytes_atomic(path, encode(text))
