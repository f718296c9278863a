"""The registry of released versions: `releases.yaml` at the repository root, written by `make release`
and committed with the release, so that a clone can check what a server sends against what was released.

A release's own SHA256SUMS proves only that its files agree with each other: whoever alters a file can
rewrite the list. The registry holds, per version, the sha256 of

- `zip`: the release zip, `<name>-<version>.zip`;
- `sums`: the release page's `SHA256SUMS` (`dist/v<version>/SHA256SUMS`), which lists every asset,
  the zip and the DuckDB file among them;
- `contents`: the `SHA256SUMS` inside the zip, which lists every file of the release, so an unpacked
  release directory can be checked too.

`download` and `verify` check against it by default; `--sha256` checks a digest the user got
elsewhere; `--no-registry` skips the registry explicitly.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import yaml

from pipeline import config, yaml_input
from pipeline.errors import InputError, VerificationFailed

REGISTRY = config.RELEASE_REGISTRY
DIGEST = re.compile(r"[0-9a-f]{64}")
SHOWN = 1 << 7  # characters of a value from the command line quoted in a message
KINDS = {"zip": "the release zip", "sums": "the release page's SHA256SUMS",
         "contents": "the release's own SHA256SUMS (inside the zip)"}
HEADER = ("# Released versions and the sha256 of what was released, written by `make release` and committed\n"
          "# with the release. `python -m pipeline download` and `verify` check a release against it.\n"
          "#   zip: the release zip; sums: the release page's SHA256SUMS (every asset);\n"
          "#   contents: the SHA256SUMS inside the zip (every file of the release directory).\n")


@dataclass(frozen=True)
class Entry:
    version: str
    date: str
    zip: str
    sums: str
    contents: str


def load(path: Path = REGISTRY) -> dict[str, Entry]:
    """version -> Entry; an absent registry is empty, a malformed one is one InputError."""
    if not path.is_file():
        return {}
    data = yaml_input.read(path, InputError, "the registry of released versions cannot be read: ")
    releases = data.get("releases")
    if not isinstance(releases, list):
        raise InputError(f"{path} should hold `releases:`, a list of versions with their digests.")
    entries = {}
    for index, item in enumerate(releases):
        fields = set(Entry.__dataclass_fields__)
        if not isinstance(item, dict) or set(item) != fields or not all(isinstance(v, str) for v in item.values()) \
                or not all(DIGEST.fullmatch(item[kind]) for kind in KINDS):
            raise InputError(f"{path} releases[{index}] should have exactly {', '.join(sorted(fields))}, "
                             "each a string, the digests 64 lowercase hex digits.")
        entries[item["version"]] = Entry(**item)
    return entries


def record(entry: Entry, path: Path = REGISTRY) -> bool:
    """Add `entry` to the registry; False when it is already there. A version is released once: a
    registered version with other digests is refused."""
    entries = load(path)
    known = entries.get(entry.version)
    if known == entry:
        return False
    if known is not None:
        changed = [kind for kind in KINDS if getattr(known, kind) != getattr(entry, kind)] or ["date"]
        raise InputError(f"version {entry.version} is already registered in {path.name} with another "
                         f"{' and '.join(changed)} ({getattr(known, changed[0])[:16]}…, this build "
                         f"{getattr(entry, changed[0])[:16]}…): a released version's files never change. "
                         "Bump the version in pyproject.toml and CHANGELOG.md, or, if this version was never "
                         f"published, delete its entry from {path.name}.")
    entries[entry.version] = entry
    text = HEADER + yaml.safe_dump({"releases": [asdict(e) for e in entries.values()]}, sort_keys=False)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp") as f:
        f.write(text)
    os.chmod(f.name, 0o644)
    os.replace(f.name, path)
    return True


@dataclass(frozen=True)
class Trust:
    """What a release is checked against besides its own checksums: the registry (None with
    --no-registry) and a digest the user got elsewhere (--sha256, of the zip; of its SHA256SUMS for a
    release directory)."""
    registry: Path | None = REGISTRY
    sha256: str | None = None

    def __post_init__(self) -> None:
        if self.sha256 is not None and not DIGEST.fullmatch(self.sha256.lower()):
            raise InputError(f"--sha256 {self.sha256[:SHOWN]!r} is not a sha256 digest (64 hex digits).")

    def check(self, version: str, kind: str, what: str, actual: str, user_digest: bool = False) -> None:
        """Refuse `what` (exit 5) unless its sha256 `actual` is the one registered for `version` as `kind`,
        and, where `user_digest`, the one given with --sha256."""
        if user_digest and self.sha256 is not None and actual != self.sha256.lower():
            raise VerificationFailed(f"{what} has sha256 {actual}, not {self.sha256.lower()} as given with "
                                     "--sha256: it is not the file you expected, whatever its own checksums say.")
        if self.registry is None:
            return
        entries = load(self.registry)
        entry = entries.get(version)
        if entry is None:
            if self.sha256 is not None:
                return  # a version newer than this clone, checked by the digest the user brought
            known = ", ".join(entries) or "none"
            raise VerificationFailed(
                f"version {version} is not in the registry of released versions ({self.registry.name}; it knows "
                f"{known}), so {what} cannot be checked against what was released, only against its own "
                "checksums, which whoever altered it can rewrite. Update your clone (git pull) if the version is "
                "newer, pass --sha256 with the zip's digest from a source you trust, or pass --no-registry to "
                "accept a release that is only self-consistent.")
        expected = getattr(entry, kind)
        if actual != expected:
            raise VerificationFailed(
                f"{what} has sha256 {actual}, but {self.registry.name} registers {expected} as {KINDS[kind]} of "
                f"version {version}: these are not the files released as {version}, even if they agree with "
                "their own checksums (a release altered and re-listed, or rebuilt, reads like this).")
