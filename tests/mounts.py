"""A real tmpfs mounted over a test folder: a read-only data folder or a disk that fills
up, as the kernel reports them (EROFS, ENOSPC). Tests run as root, so chmod would not stop
a write; a mount does. Without the right to mount, the test is skipped with the reason."""

from __future__ import annotations

import contextlib
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, capture_output=True, text=True, check=False)


@contextmanager
def tmpfs(target: Path, *, size: str = "8m", readonly: bool = False) -> Iterator[Path]:
    target.mkdir(parents=True, exist_ok=True)
    result = _run("mount", "-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(target))
    if result.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs (needs root with CAP_SYS_ADMIN): {result.stderr}")
    try:
        if readonly:
            remount_read_only(target)
        yield target
    finally:
        _run("umount", "-l", str(target))


def remount_read_only(target: Path) -> None:
    result = _run("mount", "-o", "remount,ro", str(target))
    assert result.returncode == 0, result.stderr


def fill(folder: Path) -> Path:
    """Write a file until the file system is full; returns it (delete it to free space)."""
    filler = folder / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for chunk in (1 << 20, 1 << 16, 1 << 12, 1):
            with contextlib.suppress(OSError):
                while os.write(fd, b"\0" * chunk) == chunk:
                    pass
    finally:
        os.close(fd)
    return filler
