"""Output files of one run: checked before any work, written all together at the end.

An :class:`OutputPlan` is made from the output paths a run was given (``{"--json": path,
"--csv": path}``) before anything is loaded or encoded. It refuses, with one sentence
naming the user's path (:class:`OutputError`):

* a path that is a folder, or an existing non-regular file (FIFO, device, socket), or any
  path on ``/proc``, ``/sys`` or ``/dev`` (``--json /dev/null``, ``--csv /dev/stdout``);
* the same file named by two outputs (after following symlinks, hard links included);
* a path whose folder cannot be written (probed by creating and removing a file there);
* a symbolic link at the final path (``--json r.json`` where ``r.json -> ~/.bashrc``): it is
  never followed, the user gives the file's own path;
* a path that is an input of the run, or inside one: :meth:`OutputPlan.refuse_inputs` is called
  with every input the command line names (data set, ``--eval-ids``, results files, ``st:`` model
  folders and candidates after stripping whitespace, the base model, the embedding cache) before
  any work, and with a named data set's files once they are known (before encoding).

Folder outputs (``finetune --output``) must be absent or an empty folder, never a symlink, an
input or inside one, and must not hold an input; file outputs must not lie inside them.

Outputs are staged with :meth:`OutputPlan.stage` and written by :meth:`OutputPlan.commit`
all or nothing: every file goes to a temporary beside its destination first; only when
all are written are they renamed into place, and if a rename fails the files already
replaced are put back. A run that fails before ``commit`` replaces nothing. A file that is
replaced keeps its permission bits (a ``0600`` results file stays ``0600``).
"""

from __future__ import annotations

import os
import secrets
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from xlr.atomic import FolderInUseError, check_new_folder
from xlr.paths import file_kind, user_path

__all__ = ["OutputError", "OutputPlan", "model_folders"]

_PSEUDO_ROOTS = (Path("/proc"), Path("/sys"), Path("/dev"))


class OutputError(ValueError):
    """An output path cannot be used or written; the message names the user's path."""


@dataclass(frozen=True)
class _Output:
    label: str  # e.g. "--json"
    given: Path  # what the user typed
    real: Path  # symlinks followed


def _same(a: Path, b: Path) -> bool:
    if a == b:
        return True
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def _within(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def model_folders(names: Iterable[str]) -> tuple[Path, ...]:
    """Local model folders among encoder names (``st:<path>`` whose path exists): inputs of a run.

    Names are read as :func:`~xlr.encoders.registry.load_encoder` reads them: surrounding
    whitespace is stripped, around the name and around the path (``" st: F "`` is folder ``F``).
    """
    out = []
    for name in names:
        name = name.strip()
        if name.startswith("st:") and name[3:].strip():
            path = user_path(name[3:].strip())
            if path.exists():
                out.append(path)
    return tuple(out)


def _typed(given: Path) -> Path:
    """The absolute path as typed, ``~`` expanded, symlinks NOT followed."""
    return Path(os.path.abspath(user_path(given)))


class OutputPlan:
    """The outputs of one run (see the module docstring); ``None`` paths are ignored."""

    def __init__(
        self,
        outputs: Mapping[str, str | os.PathLike[str] | None],
        folders: Mapping[str, str | os.PathLike[str] | None] | None = None,
    ) -> None:
        self._outputs: list[_Output] = []
        self._folders: list[_Output] = []
        self._staged: dict[Path, bytes] = {}
        for label, given in (folders or {}).items():
            if given is not None:
                out = _Output(label, Path(given), Path(os.path.realpath(user_path(given))))
                self._check_folder_target(out)
                self._probe_folder(out)
                self._folders.append(out)
        for label, given in outputs.items():
            if given is None:
                continue
            out = _Output(label, Path(given), Path(os.path.realpath(user_path(given))))
            self._check_target(out)
            for folder in self._folders:
                if _within(out.real, folder.real):
                    raise OutputError(
                        f"{label} {out.given} is inside {folder.label} {folder.given}, which must stay empty "
                        "for the saved model; write it elsewhere"
                    )
            for other in self._outputs:
                if _same(out.real, other.real):
                    raise OutputError(
                        f"{other.label} {other.given} and {label} {out.given} name the same file; give each its own path"
                    )
            self._probe_folder(out)
            self._outputs.append(out)

    @property
    def paths(self) -> tuple[Path, ...]:
        """The output paths as the user gave them, in order."""
        return tuple(o.given for o in self._outputs)

    @staticmethod
    def _check_special(out: _Output, what: str) -> Path:
        typed = _typed(out.given)  # /dev/stdout may resolve to a regular file
        for root in _PSEUDO_ROOTS:
            if _within(out.real, root) or _within(typed, root):
                raise OutputError(
                    f"{out.label} {out.given}: {root} is a special file system, not a place for a regular file; "
                    f"give a {what} path"
                )
        if typed.is_symlink():
            raise OutputError(
                f"{out.label} {out.given} is a symbolic link (to {os.readlink(typed)}); links are not followed, "
                f"give the {what}'s own path"
            )
        return typed

    @classmethod
    def _check_folder_target(cls, out: _Output) -> None:
        """A folder output: absent, or an empty folder (:func:`~xlr.atomic.check_new_folder`)."""
        typed = cls._check_special(out, "folder")
        try:
            check_new_folder(typed)
        except FolderInUseError as exc:
            raise OutputError(f"{out.label} {out.given}{str(exc)[len(str(typed)) :]}") from None
        except OSError as exc:
            raise OutputError(f"{out.label} {out.given}: cannot check the path ({exc.strerror or exc})") from None

    @classmethod
    def _check_target(cls, out: _Output) -> None:
        cls._check_special(out, "file")
        try:
            mode = os.stat(out.real).st_mode
        except (FileNotFoundError, NotADirectoryError):  # the folder check reports a bad parent
            return
        except OSError as exc:
            raise OutputError(f"{out.label} {out.given}: cannot check the path ({exc.strerror or exc})") from None
        if not stat.S_ISREG(mode):
            raise OutputError(f"{out.label} {out.given} is {file_kind(mode)}; give a regular file path")

    @staticmethod
    def _probe_folder(out: _Output) -> None:
        folder = out.real.parent
        probe = folder / f".{out.real.name}.{secrets.token_hex(4)}.probe"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            os.close(fd)
            os.unlink(probe)
        except OSError as exc:
            raise OutputError(
                f"{out.label} {out.given}: cannot write in folder {folder} ({exc.strerror or exc})"
            ) from None

    def refuse_inputs(
        self, files: Iterable[str | os.PathLike[str]] = (), folders: Iterable[str | os.PathLike[str]] = ()
    ) -> None:
        """Refuse an output that is one of ``files`` or lies inside one of ``folders`` (inputs of the run),
        and a folder output that is an input, lies inside one or holds one."""
        real_files = [Path(os.path.realpath(user_path(f))) for f in files]
        real_folders = [Path(os.path.realpath(user_path(f))) for f in folders]
        for out in self._folders:
            for inp in real_files + real_folders:
                if _same(out.real, inp):
                    raise OutputError(f"{out.label} {out.given} is an input of this run; refusing to write there")
                if _within(inp, out.real):
                    raise OutputError(
                        f"{out.label} {out.given} holds the input {inp}; give a folder apart from the inputs"
                    )
            for d in real_folders:
                if _within(out.real, d):
                    raise OutputError(
                        f"{out.label} {out.given} is inside the input folder {d}; refusing to write there"
                    )
        for out in self._outputs:
            for f in real_files:
                if _same(out.real, f):
                    raise OutputError(
                        f"{out.label} {out.given} is an input of this run ({f}); refusing to overwrite it"
                    )
            for d in real_folders:
                if _within(out.real, d):
                    raise OutputError(
                        f"{out.label} {out.given} is inside the input folder {d}; refusing to write there"
                    )

    def _find(self, path: str | os.PathLike[str]) -> _Output:
        for out in self._outputs:
            if out.given == Path(path):
                return out
        raise KeyError(f"{path} is not an output of this plan")

    def stage(self, path: str | os.PathLike[str], content: str | bytes) -> None:
        """Keep ``content`` (text is UTF-8 encoded) for output ``path``; nothing is written yet."""
        out = self._find(path)
        self._staged[out.real] = content.encode("utf-8") if isinstance(content, str) else bytes(content)

    def commit(self) -> tuple[Path, ...]:
        """Write every staged output, all or nothing; return the paths written (as given).

        Each destination is checked again (a FIFO made during the run is still refused);
        an error names the user's path and leaves every destination as it was.
        """
        todo = [o for o in self._outputs if o.real in self._staged]
        temps: dict[Path, Path] = {}
        backups: list[Path] = []
        try:
            for out in todo:
                self._check_target(out)
                tmp = out.real.parent / f".{out.real.name}.{secrets.token_hex(4)}.tmp"
                try:
                    mode = stat.S_IMODE(os.lstat(out.real).st_mode)
                except OSError:
                    mode = None
                try:
                    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
                    temps[out.real] = tmp
                    if mode is not None:
                        os.fchmod(fd, mode)  # a replaced file keeps its permission bits
                    with os.fdopen(fd, "wb") as fh:
                        fh.write(self._staged[out.real])
                        fh.flush()
                        os.fsync(fh.fileno())
                except OSError as exc:
                    raise OutputError(f"{out.label} {out.given}: cannot write ({exc.strerror or exc})") from None
            done: list[tuple[Path, Path | None]] = []
            for out in todo:
                backup = None
                if out.real.exists():
                    backup = out.real.parent / f".{out.real.name}.{secrets.token_hex(4)}.bak"
                    try:
                        os.link(out.real, backup)
                        backups.append(backup)
                    except OSError:
                        backup = None
                try:
                    os.replace(temps[out.real], out.real)
                except OSError as exc:
                    for dest, old in reversed(done):
                        if old is not None:
                            os.replace(old, dest)
                        else:
                            dest.unlink(missing_ok=True)
                    raise OutputError(
                        f"{out.label} {out.given}: cannot write ({exc.strerror or exc}); no output was changed"
                    ) from None
                done.append((out.real, backup))
        finally:
            for p in list(temps.values()) + backups:
                p.unlink(missing_ok=True)
        self._staged.clear()
        return tuple(o.given for o in todo)
