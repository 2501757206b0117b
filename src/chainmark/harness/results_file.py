"""The results file and the folder that holds it.

``results.json`` is rewritten atomically after every scenario (a unique temporary file in
the same folder, flushed and fsync'ed, renamed over it, the folder fsync'ed), so it is always
valid JSON and a crash or Ctrl-C loses nothing already measured.

A run owns its output folder (``OutputDir``): it holds an exclusive ``flock`` on a lock file
inside it for as long as it runs, so a second run on the same folder is refused at once
instead of mixing its results in; it never writes over an earlier run's results.json; and
a folder deleted mid-run is recreated (or replaced by a fallback) rather than losing what
was measured.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import stat
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from chainmark.harness.records import RunResults

RESULTS_NAME = "results.json"
LOCK_NAME = ".chainmark.lock"
# The default folder's name: results/<this>, then <this>-2, -3, ... if that is taken.
RUN_DIR_FORMAT = "%Y%m%dT%H%M%SZ"

# mkstemp creates its file 0600; results.json gets the permissions a plain write would give.
_UMASK = os.umask(0)
os.umask(_UMASK)


class ResultsFileError(ValueError):
    pass


class OutputDirError(Exception):
    """The output folder cannot be used; the message is one line, for the user."""


def save(results: RunResults, path: Path) -> None:
    """Writes results atomically: readers see the old file or the new one, never a mix.

    The temporary file has a unique name, so two writers (threads or processes) never share
    it; the last ``os.replace`` wins and the file is always complete.
    """
    data = results.model_dump_json(indent=2).encode("utf-8")
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), 0o666 & ~_UMASK)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(folder: Path) -> None:
    """Makes the rename itself durable; some file systems cannot, which is not an error."""
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def load(path: Path) -> RunResults:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ResultsFileError(
            f"{path} is not a chainmark results file: not UTF-8 text "
            f"(byte 0x{exc.object[exc.start]:02x} at offset {exc.start})"
        ) from exc
    except OSError as exc:
        raise ResultsFileError(f"cannot read {path}: {exc}") from exc
    try:
        return RunResults.model_validate_json(text)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "top level"
        count = exc.error_count()
        raise ResultsFileError(
            f"{path} is not a chainmark results file: {count} problem{'s' * (count > 1)}, "
            f"first at {where}: {first['msg']}"
        ) from exc


def _why(exc: OSError) -> str:
    return exc.strerror or str(exc)


def _check_folder_path(path: Path) -> None:
    """``path`` must be a folder, or not exist yet with only folders above it."""
    for above in (path, *path.parents):
        try:
            mode = above.stat().st_mode
        except OSError:
            continue  # missing (or under a file, or unreadable): look further up
        if not stat.S_ISDIR(mode):
            raise OutputDirError(
                f"output folder {path} is a file, not a folder" if above == path
                else f"output folder {path} cannot be made: {above} is a file, not a folder"
            )
        return


def _lock(folder: Path) -> int:
    """Takes the folder's lock, held while the returned descriptor is open.

    Raises OutputDirError naming the run (by pid) that holds it already.
    """
    lock_path = folder / LOCK_NAME
    while True:
        try:
            fd = os.open(lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        except OSError as exc:
            raise OutputDirError(f"cannot write in output folder {folder}: {_why(exc)}") from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
            os.close(fd)
            pid = f" (pid {holder})" if holder.isdigit() else ""
            raise OutputDirError(
                f"output folder {folder} is in use by another chainmark run{pid}; "
                f"choose another --out"
            ) from None
        except OSError as exc:
            os.close(fd)
            raise OutputDirError(f"cannot lock output folder {folder}: {_why(exc)}") from exc
        # The run before us removes the lock file on its way out; if it did so between our
        # open and our flock, we hold the lock of a file nobody else sees: start again.
        try:
            current = os.path.samestat(os.fstat(fd), os.stat(lock_path))
        except OSError:
            current = False
        if current:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
            return fd
        os.close(fd)


def new_run_dir(root: Path, now: datetime | None = None) -> Path:
    """Creates and returns a fresh folder ``root/<UTC timestamp>``, or ``<timestamp>-2``,
    ``-3``, ... when that name is taken: the exclusive mkdir decides, so two runs started in
    the same second (or the same process twice) never get the same folder."""
    _check_folder_path(root)
    try:
        root.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputDirError(f"cannot create results folder {root}: {_why(exc)}") from exc
    stamp = (now or datetime.now(UTC)).strftime(RUN_DIR_FORMAT)
    for n in range(1, 10_000):
        path = root / (stamp if n == 1 else f"{stamp}-{n}")
        try:
            path.mkdir()
        except FileExistsError:
            continue
        except OSError as exc:
            raise OutputDirError(f"cannot create output folder {path}: {_why(exc)}") from exc
        return path
    raise OutputDirError(f"cannot create output folder: {root / stamp}-* are all taken")


class OutputDir:
    """A run's output folder, owned (locked) from ``claim``/``new`` until ``release``.

    ``path`` is where results.json lives now: the folder asked for, a fallback folder if that
    one vanished and could not be recreated, or None if results are kept in memory only.
    """

    def __init__(self, path: Path, fd: int | None, created: bool) -> None:
        self.path: Path | None = path
        self._fd = fd
        self._created = created
        self._fallback = False

    @classmethod
    def claim(cls, path: Path) -> OutputDir:
        """The folder ``--out`` named: refused if it is (under) a file, cannot be written,
        is in use by another run, or holds an earlier run's results.json."""
        _check_folder_path(path)
        created = not path.is_dir()
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise OutputDirError(f"cannot create output folder {path}: {_why(exc)}") from exc
        try:
            owned = cls(path, _lock(path), created)
        except OutputDirError:
            if created:
                with contextlib.suppress(OSError):
                    path.rmdir()
            raise
        if (path / RESULTS_NAME).exists():
            owned.release()
            raise OutputDirError(
                f"output folder {path} already holds {RESULTS_NAME} from an earlier run; "
                f"choose another --out (or delete that one)"
            )
        return owned

    @classmethod
    def new(cls, root: Path, now: datetime | None = None) -> OutputDir:
        """A fresh default folder under ``root`` (see ``new_run_dir``)."""
        path = new_run_dir(root, now)
        try:
            return cls(path, _lock(path), created=True)
        except OutputDirError:
            with contextlib.suppress(OSError):
                path.rmdir()
            raise

    @property
    def results_path(self) -> Path | None:
        return None if self.path is None else self.path / RESULTS_NAME

    def save(self, results: RunResults, note: Callable[[str], None]) -> None:
        """Writes results.json; a vanished or unwritable folder never raises.

        Kept simple, because the whole run is in memory and every save writes all of it:
        if the folder vanished (deleted mid-run), it is recreated and results.json written
        again, losing nothing measured; if it cannot be recreated or written, results go to a
        fresh temporary folder from then on; if not even that works they stay in memory (the
        table is still printed). Each such change is told once, in one line, via ``note``.
        """
        for _ in range(4):
            if self.path is None:
                return
            if self._vanished():
                self._recreate(note)
                continue
            try:
                save(results, self.path / RESULTS_NAME)
                return
            except OSError as exc:
                if not self._vanished():
                    self._fall_back(note, f"cannot write {self.path / RESULTS_NAME} "
                                          f"({_why(exc)})")
        if self.path is not None:
            self._give_up(note, f"cannot keep writing {self.path / RESULTS_NAME}")

    def _vanished(self) -> bool:
        """The folder is gone, or is not the one we locked (deleted, then made again, e.g.
        by a contestant's work folder being created)."""
        assert self.path is not None
        try:
            if self._fd is None:
                return not self.path.is_dir()
            return not os.path.samestat(os.fstat(self._fd), os.stat(self.path / LOCK_NAME))
        except OSError:
            return True

    def _recreate(self, note: Callable[[str], None]) -> None:
        folder = self.path
        assert folder is not None
        self._unlock()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            self._fd = None if self._fallback else _lock(folder)
        except (OSError, OutputDirError) as exc:
            why = _why(exc) if isinstance(exc, OSError) else str(exc)
            self._fall_back(note, f"output folder {folder} vanished mid-run and cannot be "
                                  f"recreated ({why})")
            return
        note(f"output folder {folder} vanished mid-run: recreated it and wrote {RESULTS_NAME} "
             f"again with every result so far (earlier runs' logs and work folders are lost)")

    def _fall_back(self, note: Callable[[str], None], why: str) -> None:
        self._unlock()
        if self._fallback:
            self._give_up(note, why)
            return
        try:
            folder = Path(tempfile.mkdtemp(prefix="chainmark-results-"))
        except OSError as exc:
            self._give_up(note, f"{why}; no fallback folder either ({_why(exc)})")
            return
        self.path, self._fallback = folder, True
        note(f"{why}; writing results to {folder} instead")

    def _give_up(self, note: Callable[[str], None], why: str) -> None:
        self._unlock()
        self.path = None
        note(f"{why}; results are kept in memory only and printed at the end")

    def _unlock(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing drops the flock
            self._fd = None

    def release(self) -> None:
        """Drops the lock (removing the lock file) and, when this run created the folder and
        left it empty (refused before anything was written), the folder too."""
        if self._fd is not None and self.path is not None and not self._vanished():
            with contextlib.suppress(OSError):
                os.unlink(self.path / LOCK_NAME)  # still locked here: see _lock
        self._unlock()
        if self._created and not self._fallback and self.path is not None:
            with contextlib.suppress(OSError):
                self.path.rmdir()  # only succeeds when empty

    def __enter__(self) -> OutputDir:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()
