"""`python -m pipeline verify PATH`: check a release, zip or directory, against its SHA256SUMS and the
sizes and hashes in its datapackage.json. Every missing, extra or altered file is reported."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

from pipeline import archive
from pipeline.errors import InputError, VerificationFailed

PACKAGE = "datapackage.json"


def read_release(path: Path) -> dict[str, bytes]:
    """Relative path -> bytes of every file in the release, without the zip's top-level directory."""
    if path.is_dir():
        return {relative: (path / relative).read_bytes() for relative in archive.files_under(path)}
    if not zipfile.is_zipfile(path):
        raise InputError(f"{path} is neither a release directory nor a zip file.")
    with zipfile.ZipFile(path) as z:
        names = [n for n in z.namelist() if not n.endswith("/")]
        tops = {n.split("/", 1)[0] for n in names}
        if len(tops) != 1 or any("/" not in n for n in names):
            raise VerificationFailed(f"{path} should hold one top-level directory, not {sorted(tops)}.")
        return {n.split("/", 1)[1]: z.read(n) for n in names}


def problems(files: dict[str, bytes]) -> list[str]:
    found = []
    if archive.SUMS not in files:
        found.append(f"missing: {archive.SUMS}")
        listed = {}
    else:
        listed = archive.parse_sums(files[archive.SUMS].decode("utf-8", "replace"))
    hashes = {p: archive.sha256_bytes(data) for p, data in files.items()}
    for relative in sorted(set(listed) | (set(hashes) - {archive.SUMS})):
        if relative not in hashes:
            found.append(f"missing: {relative} (listed in {archive.SUMS})")
        elif relative not in listed and listed:
            found.append(f"extra: {relative} (not in {archive.SUMS})")
        elif listed and hashes[relative] != listed[relative]:
            found.append(f"altered: {relative} (sha256 {hashes[relative][:12]}…, {archive.SUMS} says "
                         f"{listed[relative][:12]}…)")
    found += package_problems(files, hashes)
    # A file missing from both lists, or altered in both, is one problem: report it once.
    return once_per_file(found)


def once_per_file(found: list[str]) -> list[str]:
    """Keep the first report of each kind per file ("altered: path ..."), in order."""
    first: dict[str, str] = {}
    for line in found:
        first.setdefault(" ".join(line.split()[:2]), line)
    return list(first.values())


def package_problems(files: dict[str, bytes], hashes: dict[str, str]) -> list[str]:
    if PACKAGE not in files:
        return [f"missing: {PACKAGE}"]
    try:
        resources = json.loads(files[PACKAGE])["resources"]
    except (ValueError, KeyError, TypeError) as error:
        return [f"altered: {PACKAGE} is not a readable data package ({error})"]
    found = []
    for resource in resources:
        relative = resource.get("path")
        if relative not in files:
            found.append(f"missing: {relative} (a resource of {PACKAGE})")
            continue
        if resource.get("bytes") != len(files[relative]):
            found.append(f"altered: {relative} ({len(files[relative])} bytes, {PACKAGE} says {resource.get('bytes')})")
        if resource.get("hash") != f"sha256:{hashes[relative]}":
            found.append(f"altered: {relative} (sha256 differs from {PACKAGE})")
    return found


def run(path: Path) -> int:
    """Verify `path`; return the number of files checked, or raise VerificationFailed listing every problem."""
    if not path.exists():
        raise InputError(f"{path} does not exist.")
    files = read_release(path)
    found = problems(files)
    if found:
        noun = "problem" if len(found) == 1 else "problems"
        raise VerificationFailed(f"{path} does not match its checksums ({len(found)} {noun}):\n  "
                                 + "\n  ".join(found))
    return len(files)
