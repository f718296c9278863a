"""Reproducible archives and checksum lists: the same files give the same bytes, whatever the clock,
the umask or the order the file system lists them in."""

from __future__ import annotations

import hashlib
import os
import time
import zipfile
from pathlib import Path

SUMS = "SHA256SUMS"
FILE_MODE = 0o644
DIR_MODE = 0o755
ZIP_EPOCH_MIN = 315532800  # 1980-01-01, the earliest time a zip entry can hold


def files_under(root: Path) -> list[str]:
    """Relative POSIX paths of every regular file under root, sorted."""
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def sha256_bytes(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path, chunk: int = 1 << 20) -> str:
    """Hash a file in chunks, so memory does not grow with its size."""
    sha = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            sha.update(block)
    return sha.hexdigest()


def sums_text(hashes: dict[str, str]) -> str:
    """`sha256sum` format: hash, two spaces, path."""
    return "".join(f"{hashes[path]}  {path}\n" for path in sorted(hashes))


def write_sums(root: Path) -> None:
    hashes = {p: sha256_file(root / p) for p in files_under(root) if p != SUMS}
    (root / SUMS).write_text(sums_text(hashes), encoding="utf-8")


def normalize(root: Path, epoch: int) -> None:
    """Fixed permissions and modification times, so a copy of the directory is as reproducible as the zip."""
    for path in [root, *root.rglob("*")]:
        os.chmod(path, DIR_MODE if path.is_dir() else FILE_MODE)
        os.utime(path, (epoch, epoch))


def write_zip(root: Path, zip_path: Path, epoch: int) -> None:
    """Zip `root` under its own name, entries sorted, every timestamp `epoch`, fixed permissions."""
    stamp = time.gmtime(max(epoch, ZIP_EPOCH_MIN))[:6]
    with zipfile.ZipFile(zip_path, "w") as archive:
        for relative in files_under(root):
            info = zipfile.ZipInfo(f"{root.name}/{relative}", date_time=stamp)
            info.create_system = 3  # Unix, so external_attr carries the permissions
            info.external_attr = (0o100000 | FILE_MODE) << 16
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, (root / relative).read_bytes(), compresslevel=9)
