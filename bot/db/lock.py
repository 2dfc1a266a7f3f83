"""The single-instance lock on a SQLite database: `flock` on `<DATABASE_PATH>.lock`.

The bot holds it while it runs (bot/run.py); `db restore` takes the same lock, so it never swaps the file under a
running bot. The kernel drops a flock() lock when its process dies, even by SIGKILL, so a crash never leaves a stale
lock behind.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


class DatabaseInUse(Exception):
    """Another process holds the database's lock; `pid` is the one it wrote into the lock file, if readable."""

    def __init__(self, path: Path, pid: int | None) -> None:
        super().__init__(f"{path} is in use by another process" + (f" (pid {pid})" if pid else ""))
        self.path = path
        self.pid = pid


def lock_path(path: Path) -> Path:
    """Return the lock file of the database at `path`."""
    return path.with_name(f"{path.name}.lock")


@contextlib.contextmanager
def exclusive_lock(path: Path) -> Iterator[None]:
    """Hold the exclusive lock of the database at `path` while inside, without waiting for it.

    Raises DatabaseInUse when another process has it, and OSError when the lock file cannot be created.
    """
    import fcntl  # here: Unix only, and commands that never lock should still work where it is missing

    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 20, 0).decode("ascii", "replace").strip()
            raise DatabaseInUse(path, int(holder) if holder.isdigit() else None) from None
        # The pid is only for messages; the lock, not the file's content, keeps a second process out.
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        yield
    finally:
        os.close(fd)
