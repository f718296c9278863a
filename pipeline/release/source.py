"""The pipeline's source in the release: `git archive` of the release's commit, every tracked file, so the
tables can be rebuilt from the release alone (`tar xf`, then `make dataset`).

The commit is the last one that touched anything but what `make release` writes into the repository
(project.WRITTEN_BY_RELEASE), the same commit that dates the release, so committing the registry does
not change the archive. The archive is an uncompressed tar: git writes it byte for byte the same for
one commit on any machine, and the release zip compresses it.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

from pipeline import config
from pipeline.errors import InputError
from pipeline.release import project

SHOWN = 1 << 8  # characters of git's error quoted in a message


def archive_name(version: str) -> str:
    return f"{project.release_name(version)}-source.tar"


def git(*args: str) -> str:
    try:
        return subprocess.run(["git", "-C", str(config.ROOT), *args], capture_output=True, text=True, check=True,
                              timeout=120).stdout.strip()
    except (OSError, subprocess.SubprocessError) as error:
        detail = getattr(error, "stderr", None) or error
        raise InputError(f"a release ships its source as `git archive` of its commit, and git failed "
                         f"({str(detail).strip()[:SHOWN]}); build releases in a git clone of the project.") from None


def release_commit() -> str:
    commit = git("log", "-1", "--format=%H", "--", ".", *(f":(exclude){name}" for name in project.WRITTEN_BY_RELEASE))
    if not commit:
        raise InputError("the repository has no commit to archive; commit the project before releasing it.")
    return commit


def write(target: Path, version: str) -> str:
    """Write the source archive to `target`; return the commit it holds."""
    commit = release_commit()
    prefix = archive_name(version).removesuffix(".tar")
    git("archive", "--format=tar", f"--prefix={prefix}/", "-o", str(target.absolute()), commit)
    return commit
