"""An output directory this pipeline owns (`build --out`, `release --dist`): safe to replace, and replaced whole.

Everything is written into a staging directory beside the output, a new *generation*, then swapped in
with one atomic rename of a symlink (`out` is a link to the current generation), so a failed or
interrupted run leaves the previous output whole. Each generation records what it holds in a marker
file, and a run never writes through a link and never deletes what this pipeline did not write: an
`out` that is a foreign link, a directory that is not a generation, or a generation holding anything
unrecorded is refused (exit 4, naming it).
"""

from __future__ import annotations

import contextlib
import glob
import json
import os
import secrets
import shutil
import stat
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pipeline import config, tree
from pipeline.errors import OutputError, join_capped

# Written into every generation this module creates: what it is, where it was created (directory
# name, device and inode, which a copy does not keep) and, once complete, every file it holds.
MARKER = ".baoshan-resettlement-generation"
MARKER_MAX_BYTES = 1 << 20

T = TypeVar("T")


@dataclass(frozen=True)
class Kind:
    """What kind of output a directory is: how to name it to the user, and what it may hold."""
    option: str  # the command-line option that names it, for messages
    what: str  # what it holds, for messages: "a dataset published" (by this pipeline)
    layout: Callable[[], set[str]]  # what a generation whose marker lists no files holds
    derived: tuple[str, ...] = ()  # files that later commands add to the current generation


def write_marker(directory: Path, files: list[str] | None) -> None:
    st = os.lstat(directory)
    record = {"dataset": config.DATASET_NAME, "version": config.version(), "directory": directory.name,
              "device": st.st_dev, "inode": st.st_ino, "files": files}
    (directory / MARKER).write_text(json.dumps(record, indent=1) + "\n", encoding="utf-8")


def read_marker(directory: Path) -> dict | None:
    """The generation record of `directory`, or None when it has no readable marker of ours. A marker
    from before records existed (one line: dataset and version) gives a record without files."""
    try:
        fd = os.open(directory / MARKER, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return None
        data = f.read(MARKER_MAX_BYTES + 1)
    if len(data) > MARKER_MAX_BYTES:
        return None
    try:
        record = json.loads(data)
    except (ValueError, RecursionError):
        legacy = data.decode("utf-8", "replace").split()
        return {"files": None} if legacy[:1] == [config.DATASET_NAME] else None
    if not isinstance(record, dict) or record.get("dataset") != config.DATASET_NAME:
        return None
    files = record.get("files")
    if files is not None and not (isinstance(files, list) and all(isinstance(f, str) for f in files)):
        return None
    return record


def walk(directory: Path) -> tuple[list[str], list[str]]:
    """(regular files, anything else but directories) under `directory`, as relative paths, without
    following links; a directory nested past tree.MAX_DEPTH counts as anything else."""
    files, others = [], []
    for relative, kind in tree.entries(directory):
        if kind == "file":
            files.append(relative)
        elif kind != "directory":
            others.append(relative)
    return sorted(files), sorted(others)


def allowed(record: dict, kind: Kind) -> set[str]:
    files = record.get("files")
    return {*(kind.layout() if files is None else files), *kind.derived, MARKER}


def foreign(directory: Path, record: dict, kind: Kind) -> list[str]:
    """What `directory` holds that this pipeline did not write into it."""
    files, others = walk(directory)
    return sorted(others + [f for f in files if f not in allowed(record, kind)])


def proven_ours(directory: Path, kind: Kind) -> bool:
    """A staging directory this pipeline created: its marker names it and its inode (a copy or a
    look-alike does not match), and it holds nothing this pipeline would not write."""
    try:
        st = os.lstat(directory)
    except OSError:
        return False
    record = read_marker(directory) if stat.S_ISDIR(st.st_mode) else None
    return (record is not None and record.get("directory") == directory.name
            and record.get("device") == st.st_dev and record.get("inode") == st.st_ino
            and not foreign(directory, record, kind))


def remove_generation(directory: Path, record: dict, kind: Kind) -> None:
    """Delete the files this pipeline wrote into `directory`, then its directories if left empty.
    Anything else stays where it is."""
    files, _ = walk(directory)
    keep = allowed(record, kind)
    for relative in files:
        if relative in keep:
            (directory / relative).unlink(missing_ok=True)
    parents = {str(parent) for f in files for parent in Path(f).parents if str(parent) != "."}
    for sub in sorted(parents, key=lambda p: p.count("/"), reverse=True):
        with contextlib.suppress(OSError):
            (directory / sub).rmdir()
    with contextlib.suppress(OSError):
        directory.rmdir()


def own_link_target(out: Path) -> Path | None:
    """The generation `out` points at, when `out` is this pipeline's own generation link: a link to a
    sibling named `.<out>-*`. None for any other link."""
    target = os.readlink(out)
    if "/" in target or not target.startswith(f".{out.name}-"):
        return None
    return out.parent / target


def refuse_foreign(out: Path, directory: Path, found: list[str], kind: Kind) -> None:
    if found:
        raise OutputError(f"{out} holds {len(found)} file(s) this pipeline did not write ({directory}), so it "
                          f"will not be replaced; move them elsewhere or choose another {kind.option}:\n  "
                          + join_capped(found))


def check_target(out: Path, kind: Kind) -> tuple[Path, dict] | None:
    """Refuse to replace anything this pipeline did not write: `out` may name a user's directory or a
    link to one. Return the previous generation and its record, if there is one to remove after the swap."""
    if not os.path.lexists(out):
        return None
    if out.is_symlink():
        generation = own_link_target(out)
        if generation is None:
            raise OutputError(f"{out} is a link to {os.readlink(out)}, not this pipeline's own generation link, "
                              f"so it will not be replaced; choose another {kind.option}, or remove the link "
                              "yourself.")
        if not os.path.lexists(generation):
            return None  # a dangling link of ours: replacing it deletes nothing
        record = read_marker(generation) if generation.is_dir() and not generation.is_symlink() else None
        if record is None:
            raise OutputError(f"{out} points at {generation}, which is not {kind.what} by this pipeline, so "
                              f"it will not be replaced; choose another {kind.option}, or remove it yourself.")
        refuse_foreign(out, generation, foreign(generation, record, kind), kind)
        return generation, record
    if out.is_dir() and not any(out.iterdir()):
        return None
    record = read_marker(out) if out.is_dir() else None
    if record is None:
        raise OutputError(f"{out} exists and is not {kind.what} by this pipeline, so it will not be replaced; "
                          f"choose another {kind.option}, or remove it yourself.")
    refuse_foreign(out, out, foreign(out, record, kind), kind)
    return out, record


def swap_in(staging: Path, out: Path, previous: tuple[Path, dict] | None, kind: Kind) -> None:
    """Point `out` at `staging` atomically; remove the previous generation's files afterwards."""
    if out.is_dir() and not out.is_symlink():
        # An empty directory, or one published before output/ became a link: move it aside once.
        aside = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
        out.rename(aside / out.name)
        previous = (aside / out.name, previous[1]) if previous else (aside / out.name, {"files": []})
    else:
        aside = None
    link = out.parent / f".{out.name}.link-{os.getpid()}-{secrets.token_hex(4)}"
    link.symlink_to(staging.name)
    os.replace(link, out)
    # From here on `out` is the new generation: a failure to tidy up must not remove it.
    with contextlib.suppress(OSError):
        if previous and previous[0] != staging:
            generation, record = previous
            if not generation.is_symlink() and generation.is_dir():
                remove_generation(generation, record, kind)
        if aside is not None:
            aside.rmdir()


def remove_abandoned(out: Path, current: Path | None, kind: Kind) -> None:
    """Staging directories of runs that were killed before their swap, when proven to be ours."""
    for leftover in out.parent.glob(f".{glob.escape(out.name)}-*"):  # out.name may hold * ? [
        if leftover != current and proven_ours(leftover, kind):
            record = read_marker(leftover)
            if record is not None:
                remove_generation(leftover, record, kind)


def new_staging(out: Path) -> Path:
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    write_marker(staging, None)
    return staging


def replace(out: Path, kind: Kind, write: Callable[[Path], T]) -> T:
    """Write a new generation of `out` with `write(staging directory)` and swap it in; return what
    `write` returns. Refused (exit 4) before anything is written when `out` is not ours to replace."""
    out = out.absolute()
    if not out.parent.is_dir():
        raise OutputError(f"the parent directory of {out} does not exist; create it or choose another "
                          f"{kind.option}.")
    if not os.access(out.parent, os.W_OK):
        raise OutputError(f"{out.parent} is not writable, so {out.name}/ cannot be written there; "
                          f"fix its permissions or choose another {kind.option}.")
    previous = check_target(out, kind)
    remove_abandoned(out, previous[0] if previous else None, kind)
    try:
        staging = new_staging(out)
    except OSError as error:
        raise OutputError(f"cannot write in {out.parent} ({error.strerror}), so {out.name}/ cannot be written "
                          f"there; fix its permissions or choose another {kind.option}.") from None
    try:
        result = write(staging)
        write_marker(staging, [f for f in walk(staging)[0] if f != MARKER])
        os.chmod(staging, 0o755)
        swap_in(staging, out, previous, kind)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return result
