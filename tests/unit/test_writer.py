"""writer.py on a real file system: atomic replace, mode kept, symlinks, read-only files, full disks."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from caffelint.errors import InputError
from caffelint.writer import write_text_atomic

NET = 'name: "n"\nlayer { name: "a" type: "ReLU" }\n'


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if p.name.startswith(".caffelint-")]


def test_replaces_the_file_and_keeps_its_mode(tmp_path):
    path = tmp_path / "net.prototxt"
    path.write_text("old\n")
    path.chmod(0o640)
    write_text_atomic(str(path), NET)
    assert path.read_text() == NET
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert leftovers(tmp_path) == []


def test_keeps_crlf_and_undecodable_bytes(tmp_path):
    from caffelint.source import SourceFile

    path = tmp_path / "net.prototxt"
    path.write_bytes(b'name: "caf\xe9"\r\n')
    text = SourceFile.read(str(path)).text
    write_text_atomic(str(path), text + "force_backward: true\r\n")
    assert path.read_bytes() == b'name: "caf\xe9"\r\nforce_backward: true\r\n'


def test_a_symlink_stays_a_symlink_and_its_target_is_written(tmp_path):
    (tmp_path / ".git").mkdir()
    target = tmp_path / "models" / "net.prototxt"
    target.parent.mkdir()
    target.write_text("old\n")
    link = tmp_path / "train.prototxt"
    link.symlink_to(target)
    write_text_atomic(str(link), NET, follow_symlinks=False)
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_text() == NET


def test_a_symlink_leaving_the_repository_is_refused_unless_followed(tmp_path):
    repo, elsewhere = tmp_path / "repo", tmp_path / "elsewhere"
    (repo / ".git").mkdir(parents=True)
    elsewhere.mkdir()
    target = elsewhere / "net.prototxt"
    target.write_text("old\n")
    link = repo / "net.prototxt"
    link.symlink_to(target)
    with pytest.raises(InputError, match=r"outside .*repo.*--follow-symlinks"):
        write_text_atomic(str(link), NET, follow_symlinks=False)
    assert target.read_text() == "old\n"
    write_text_atomic(str(link), NET, follow_symlinks=True)
    assert target.read_text() == NET and link.is_symlink()


def test_a_read_only_file_is_left_untouched(tmp_path):
    path = tmp_path / "net.prototxt"
    path.write_text("old\n")
    path.chmod(0o444)
    with pytest.raises(InputError, match="read-only"):
        write_text_atomic(str(path), NET)
    assert path.read_text() == "old\n"
    assert leftovers(tmp_path) == []


def _small_tmpfs(tmp_path: Path) -> Path | None:
    """A 64 KiB tmpfs when this process may mount one (root), else None."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    if os.geteuid() != 0:
        return None
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)],
                          capture_output=True, check=False)
    return mount if done.returncode == 0 else None


def test_a_full_disk_leaves_the_original_untouched(tmp_path):
    big = NET + "# padding\n" * 20000  # about 200 KB: more than the disk (or the size limit) allows
    mount = _small_tmpfs(tmp_path)
    if mount is not None:
        try:
            path = mount / "net.prototxt"
            path.write_text("old\n")
            with pytest.raises(InputError, match="write failed.*original is untouched"):
                write_text_atomic(str(path), big)
            assert path.read_text() == "old\n"
            assert leftovers(mount) == []
        finally:
            subprocess.run(["umount", str(mount)], check=True)
        return
    _write_beyond_the_file_size_limit(tmp_path, big)  # no tmpfs: the same failure, for real


def test_a_write_cut_short_by_the_file_size_limit_leaves_the_original_untouched(tmp_path):
    _write_beyond_the_file_size_limit(tmp_path, NET + "# padding\n" * 20000)


def _write_beyond_the_file_size_limit(tmp_path: Path, big: str) -> None:
    """Write in a child process whose RLIMIT_FSIZE is 64 KiB: the write fails with EFBIG."""
    path = tmp_path / "net.prototxt"
    path.write_text("old\n")
    script = (
        "import resource, signal, sys\n"
        "from caffelint.errors import InputError\n"
        "from caffelint.writer import write_text_atomic\n"
        "signal.signal(signal.SIGXFSZ, signal.SIG_IGN)\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (65536, 65536))\n"
        "try:\n"
        f"    write_text_atomic({str(path)!r}, sys.stdin.read())\n"
        "except InputError as exc:\n"
        "    print(exc); sys.exit(3)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], input=big, capture_output=True, text=True,
                          check=False)
    assert done.returncode == 3, done.stderr
    assert "original is untouched" in done.stdout
    assert path.read_text() == "old\n"
    assert leftovers(tmp_path) == []


def test_a_missing_folder_is_a_clear_error(tmp_path):
    path = tmp_path / str(uuid.uuid4()) / "net.prototxt"
    with pytest.raises(InputError, match="cannot write in"):
        write_text_atomic(str(path), NET)


def test_a_new_file_gets_the_mode_the_umask_allows(tmp_path):
    import os

    from caffelint.writer import write_text_atomic

    old = os.umask(0o022)
    try:
        target = tmp_path / "report.sarif"
        write_text_atomic(str(target), "{}\n")
    finally:
        os.umask(old)
    assert target.read_text() == "{}\n"
    assert target.stat().st_mode & 0o777 == 0o644
