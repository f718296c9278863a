"""`python -m pipeline verify PATH`: check a release, zip or directory, against its SHA256SUMS and the
sizes and hashes in its datapackage.json. Every missing, extra or altered file is reported.

A release is exactly the files its SHA256SUMS lists: every file listed, every listed file present.
A release comes from outside, so it is read as an attacker would write it:

- member names are checked before anything is read: `..`, absolute paths, backslashes, empty or `.`
  components, duplicates (also after dropping `.` components and ignoring case) are refused;
- symbolic links and anything but regular files are refused, in zips and in directories (a directory
  release is walked iteratively, at most `tree.MAX_DEPTH` deep, without following links, and files
  are opened with O_NOFOLLOW);
- the number of members, each member's size and the total size are capped (the limits below), from
  the sizes the zip declares, before anything is decompressed; a member that inflates past its
  declared size is an error;
- everything is read in chunks, so memory stays bounded whatever the sizes.

The release's DuckDB file, when it lies beside the release (`<name>.duckdb`, as `download` leaves it)
or in the release page's assets (`v<version>/<name>.duckdb`, as `make release` does), must hold every
Parquet table of the release: the same row count and content digest (`pipeline.database.DIGEST_SQL`).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import stat
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from pipeline import config, database, tree
from pipeline.errors import InputError, VerificationFailed, join_capped
from pipeline.release import archive, registry

PACKAGE = "datapackage.json"

MiB = 1 << 20
MAX_MEMBERS = 1_000  # files and directories in one release
MAX_MEMBER_BYTES = 256 * MiB  # one file, unpacked
MAX_TOTAL_BYTES = 1024 * MiB  # all files, unpacked
MAX_SUMS_BYTES = 1 * MiB  # SHA256SUMS
MAX_PACKAGE_BYTES = 16 * MiB  # datapackage.json
CHUNK = 1 * MiB
SHOWN = 1 << 7  # characters of an untrusted value quoted in a message
LIMITS_TEXT = (f"at most {MAX_MEMBERS:,} members, {MAX_MEMBER_BYTES // MiB} MiB per file and "
               f"{MAX_TOTAL_BYTES // MiB} MiB in all")

PARQUET_MEMBER = re.compile(r"parquet/([a-z][a-z0-9_]{0,62})\.parquet")
SUMS_LINE = re.compile(r"([0-9a-fA-F]{64}) [ *](.+)")
DRIVE = re.compile(r"[A-Za-z]:")


@dataclass
class Member:
    name: str  # relative POSIX path inside the release
    size: int  # declared (zip) or stat (directory) size
    open: Callable[[], contextlib.AbstractContextManager[BinaryIO]]


def name_problem(name: str) -> str | None:
    """Why a member name is unsafe, or None. Checked before anything is read or written."""
    if not name:
        return "an empty name"
    if "\\" in name:
        return "a backslash"
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in name):
        return "a control character"
    if name.startswith("/") or DRIVE.match(name):
        return "an absolute path"
    parts = name.split("/")
    if ".." in parts:
        return "a '..' component"
    if "" in parts or "." in parts:
        return "an empty or '.' component"
    if len(parts) > tree.MAX_DEPTH:
        return f"directories nested more than {tree.MAX_DEPTH} deep"
    return None


def shown(text: str) -> str:
    """An untrusted name as quoted in a message: at most SHOWN characters."""
    return text if len(text) <= SHOWN else text[:SHOWN] + "..."


def normalized(name: str) -> str:
    """The name a file system would resolve: `.` and empty components dropped."""
    return "/".join(part for part in name.split("/") if part not in ("", "."))


def check_names(names: list[str], what: str) -> list[str]:
    """Unsafe or duplicate names among `names` (relative paths), as problem lines."""
    found = []
    seen: dict[str, str] = {}
    for name in names:
        problem = name_problem(name)
        if problem:
            found.append(f"unsafe: {shown(name)!r} in {what} has {problem}")
        key = normalized(name).casefold()
        if key in seen:
            found.append(f"duplicate: {name!r} in {what} names the same file as {seen[key]!r}")
        else:
            seen[key] = name
    return found


def refuse(path: Path, found: list[str], why: str) -> None:
    if found:
        noun = "problem" if len(found) == 1 else "problems"
        raise VerificationFailed(f"{path} {why} ({len(found)} {noun}); nothing was read or written:\n  "
                                 + join_capped(found))


def check_sizes(path: Path, sizes: dict[str, int]) -> None:
    found = [f"too large: {name} declares {size:,} bytes, over the limit of {MAX_MEMBER_BYTES:,}"
             for name, size in sizes.items() if size > MAX_MEMBER_BYTES]
    total = sum(sizes.values())
    if total > MAX_TOTAL_BYTES:
        found.append(f"too large: the files declare {total:,} bytes in all, over the limit of {MAX_TOTAL_BYTES:,}")
    refuse(path, found, f"is over the release size limits ({LIMITS_TEXT})")


# --- reading a release --------------------------------------------------------------------------

def zip_members(path: Path) -> dict[str, Member]:
    """Members of a release zip without its top-level directory, after every name and size check."""
    try:
        z = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as error:
        raise VerificationFailed(f"{path} is not a readable zip file ({error}).") from None
    with z:
        infos = z.infolist()
    if len(infos) > MAX_MEMBERS:
        raise VerificationFailed(f"{path} holds {len(infos):,} entries, over the limit of {MAX_MEMBERS:,}; "
                                 "nothing was read or written.")
    found = check_names([i.filename.removesuffix("/") if i.is_dir() else i.filename for i in infos],
                        path.name)
    files = []
    for info in infos:
        mode = info.external_attr >> 16
        if info.create_system == 3 and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
            kind = "a symbolic link" if stat.S_ISLNK(mode) else "not a regular file"
            found.append(f"unsafe: {info.filename!r} in {path.name} is {kind}")
        elif info.flag_bits & 0x1:
            found.append(f"unsafe: {info.filename!r} in {path.name} is encrypted")
        elif not info.is_dir():
            files.append(info)
    tops = {i.filename.split("/", 1)[0] for i in infos}
    if len(tops) != 1 or any("/" not in i.filename for i in files):
        found.append(f"layout: {path.name} should hold one top-level directory, not {sorted(tops)[:5]}")
    refuse(path, found, "is not a safe release")
    check_sizes(path, {i.filename: i.file_size for i in files})

    def opener(info: zipfile.ZipInfo) -> Callable[[], contextlib.AbstractContextManager[BinaryIO]]:
        @contextlib.contextmanager
        def open_member() -> Iterator[BinaryIO]:
            with zipfile.ZipFile(path) as z, z.open(info) as member:
                yield member
        return open_member

    return {i.filename.split("/", 1)[1]: Member(i.filename.split("/", 1)[1], i.file_size, opener(i))
            for i in files}


def directory_members(path: Path) -> dict[str, Member]:
    """Regular files under a release directory, walked iteratively without following links."""
    found: list[str] = []
    entries: dict[str, int] = {}
    for count, (relative, kind) in enumerate(tree.entries(path), 1):
        if count > MAX_MEMBERS:
            raise VerificationFailed(f"{path} holds more than {MAX_MEMBERS:,} entries; nothing was read.")
        if kind == "link":
            found.append(f"unsafe: {relative} is a symbolic link")
        elif kind == "too deep":
            found.append(f"unsafe: {shown(relative)} nests directories more than {tree.MAX_DEPTH} deep")
        elif kind == "file":
            entries[relative] = os.lstat(path / relative).st_size
        elif kind == "other":
            found.append(f"unsafe: {relative} is not a regular file")
    found += check_names(sorted(entries), path.name)
    refuse(path, found, "is not a safe release")
    check_sizes(path, entries)

    def opener(relative: str) -> Callable[[], contextlib.AbstractContextManager[BinaryIO]]:
        @contextlib.contextmanager
        def open_file() -> Iterator[BinaryIO]:
            fd = os.open(path / relative, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as f:
                if not stat.S_ISREG(os.fstat(fd).st_mode):
                    raise OSError(f"{relative} is not a regular file")
                yield f
        return open_file

    return {relative: Member(relative, size, opener(relative)) for relative, size in sorted(entries.items())}


def members(path: Path) -> dict[str, Member]:
    if path.is_dir():
        return directory_members(path)
    if not path.is_file():
        raise InputError(f"{path} is neither a release directory nor a zip file.")
    return zip_members(path)


def read_chunks(member: Member) -> Iterator[bytes]:
    """The member's bytes in chunks; a member longer than it declared is an error."""
    with member.open() as stream:
        read = 0
        while True:
            try:
                chunk = stream.read(CHUNK)
            except zipfile.BadZipFile as error:  # a bad CRC, or data past the declared size
                raise VerificationFailed(f"{member.name} is damaged or not what its zip entry declares "
                                         f"({error}).") from None
            if not chunk:
                break
            read += len(chunk)
            if read > member.size or read > MAX_MEMBER_BYTES:
                raise VerificationFailed(f"{member.name} is longer than the {member.size:,} bytes it declares.")
            yield chunk


def digest(member: Member) -> tuple[str, int]:
    sha, size = hashlib.sha256(), 0
    for chunk in read_chunks(member):
        sha.update(chunk)
        size += len(chunk)
    return sha.hexdigest(), size


def read_small(member: Member, limit: int) -> bytes:
    if member.size > limit:
        raise VerificationFailed(f"{member.name} declares {member.size:,} bytes, over its limit of {limit:,}.")
    return b"".join(read_chunks(member))


# --- checking it ---------------------------------------------------------------------------------

def parse_sums(data: bytes, what: str = archive.SUMS) -> tuple[dict[str, str], list[str]]:
    """A `sha256sum` list, strictly: (path -> hash, problems). Every line must be a hash and a safe path."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        return {}, [f"altered: {what} is not UTF-8 ({error.reason} at byte {error.start})"]
    entries: list[tuple[str, str]] = []
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        match = SUMS_LINE.fullmatch(line)
        if not match:
            found.append(f"altered: {what} line {number} is not `<sha256>  <path>`")
            continue
        entries.append((match[2], match[1].lower()))
    found += check_names([relative for relative, _ in entries], what)
    if not entries and not found:
        found.append(f"altered: {what} lists no files")
    return dict(entries), found


def package_problems(data: bytes | None, sizes: dict[str, int], hashes: dict[str, str]) -> list[str]:
    if data is None:
        return [f"missing: {PACKAGE}"]
    try:
        package = json.loads(data)
    except (ValueError, RecursionError) as error:
        return [f"altered: {PACKAGE} is not valid JSON ({str(error)[:SHOWN]})"]
    if not isinstance(package, dict):
        return [f"altered: {PACKAGE} is a JSON {type(package).__name__}, not an object"]
    resources = package.get("resources")
    if not isinstance(resources, list):
        return [f"altered: {PACKAGE} `resources` should be a list, not {json.dumps(resources)[:SHOWN]}"]
    found = []
    for index, resource in enumerate(resources):
        where = f"{PACKAGE} resources[{index}]"
        if not isinstance(resource, dict) or not isinstance(resource.get("path"), str):
            found.append(f"altered: {where} has no `path` string")
            continue
        relative = resource["path"]
        if relative not in hashes:
            found.append(f"missing: {relative[:SHOWN]!r} (a resource of {PACKAGE})")
            continue
        if resource.get("bytes") != sizes[relative]:
            found.append(f"altered: {relative} ({sizes[relative]:,} bytes, {PACKAGE} says "
                         f"{json.dumps(resource.get('bytes'))[:SHOWN]})")
        if resource.get("hash") != f"sha256:{hashes[relative]}":
            found.append(f"altered: {relative} (sha256 differs from {PACKAGE})")
    return found


def problems(files: dict[str, Member]) -> tuple[list[str], dict[str, str]]:
    """Every problem of a release whose names and sizes have been checked; and the hashes read."""
    found: list[str] = []
    if archive.SUMS in files:
        listed, found = parse_sums(read_small(files[archive.SUMS], MAX_SUMS_BYTES))
    else:
        listed, found = {}, [f"missing: {archive.SUMS}"]
    hashes, sizes = {}, {}
    for relative, member in files.items():
        hashes[relative], sizes[relative] = digest(member)
    for relative in sorted(set(listed) | (set(hashes) - {archive.SUMS})):
        if relative not in hashes:
            found.append(f"missing: {relative} (listed in {archive.SUMS})")
        elif relative not in listed:
            found.append(f"extra: {relative} (not in {archive.SUMS})")
        elif hashes[relative] != listed[relative]:
            found.append(f"altered: {relative} (sha256 differs from {archive.SUMS})")
    package = read_small(files[PACKAGE], MAX_PACKAGE_BYTES) if PACKAGE in files else None
    found += package_problems(package, sizes, hashes)
    # A file missing from both lists, or altered in both, is one problem: report it once.
    return once_per_file(found), hashes


def once_per_file(found: list[str]) -> list[str]:
    """Keep the first report of each kind per file ("altered: path ..."), in order."""
    first: dict[str, str] = {}
    for line in found:
        first.setdefault(" ".join(line.split()[:2]), line)
    return list(first.values())


def check(path: Path) -> dict[str, str]:
    """Verify `path`; return relative path -> sha256 of every file, or raise VerificationFailed."""
    if not (path.exists() or path.is_symlink()):
        raise InputError(f"{path} does not exist.")
    files = members(path)
    try:
        found, hashes = problems(files)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError, EOFError,
            OSError, ValueError) as error:
        raise VerificationFailed(f"{path} cannot be read as a release: {error}.") from None
    if found:
        noun = "problem" if len(found) == 1 else "problems"
        raise VerificationFailed(f"{path} does not match its checksums ({len(found)} {noun}):\n  "
                                 + join_capped(found))
    duckdb_file = duckdb_beside(path)
    found = duckdb_problems(duckdb_file, files) if duckdb_file else []
    if found:
        noun = "problem" if len(found) == 1 else "problems"
        raise VerificationFailed(f"{duckdb_file} does not hold the Parquet tables of {path} ({len(found)} "
                                 f"{noun}):\n  " + join_capped(found))
    return hashes


def duckdb_beside(path: Path) -> Path | None:
    """The release's DuckDB file: `<name>.duckdb` beside it, or `v<version>/<name>.duckdb` (dist/)."""
    name = path.name.removesuffix(".zip")
    version = name.removeprefix(f"{config.DATASET_NAME}-")
    for candidate in (path.parent / f"{name}.duckdb", path.parent / f"v{version}" / f"{name}.duckdb"):
        if os.path.lexists(candidate):
            return candidate
    return None


def duckdb_problems(duckdb_file: Path, files: dict[str, Member]) -> list[str]:
    """How the tables of `duckdb_file` differ from the release's Parquet files (row count, content digest)."""
    st = os.lstat(duckdb_file)
    if not stat.S_ISREG(st.st_mode):
        kind = "a symbolic link" if stat.S_ISLNK(st.st_mode) else "not a regular file"
        return [f"unsafe: {duckdb_file.name} is {kind}"]
    if st.st_size > MAX_MEMBER_BYTES:
        return [f"too large: {duckdb_file.name} is {st.st_size:,} bytes, over the limit of {MAX_MEMBER_BYTES:,}"]
    tables = {m[1]: member for relative, member in files.items() if (m := PARQUET_MEMBER.fullmatch(relative))}
    import duckdb  # only here: verifying a zip or a directory alone does not need it

    found, opened = [], []
    try:
        with tempfile.TemporaryDirectory(prefix="verify-") as scratch, \
                duckdb.connect(str(duckdb_file), read_only=True,
                               config={"threads": 1, "autoinstall_known_extensions": False}) as con:
            con.execute("SET enable_external_file_cache = false")
            held = {row[0] for row in con.execute("SELECT table_name FROM duckdb_tables()").fetchall()}
            found += [f"missing: table {table} (parquet/{table}.parquet has no table in {duckdb_file.name})"
                      for table in sorted(set(tables) - held)]
            copies = {}
            for table in sorted(set(tables) & held):
                copies[table] = Path(scratch) / f"{table}.parquet"
                with open(copies[table], "xb") as out:
                    for chunk in read_chunks(tables[table]):
                        out.write(chunk)
            ours = database.digests(con, {table: f'"{table}"' for table in copies})
            theirs = database.digests(con, {table: database.parquet_relation(path, opened)
                                            for table, path in copies.items()})
            found += [f"altered: {database.difference(table, ours[table], theirs[table])}"
                      for table in copies if ours[table] != theirs[table]]
            found += [f"extra: table {table[:SHOWN]} in {duckdb_file.name} (no parquet/{table[:SHOWN]}.parquet)"
                      for table in sorted(held - set(tables) - {"dataset_metadata"})]
    except duckdb.Error as error:
        found.append(f"altered: {duckdb_file.name} cannot be read as the release's database "
                     f"({' '.join(str(error).split())[:SHOWN]})")
    finally:
        for fd in opened:
            os.close(fd)
    return found


def run(path: Path, trust: registry.Trust | None = None) -> int:
    """Verify `path`; return the number of files checked, or raise VerificationFailed listing every problem.
    With `trust` (the command line's default), the release must also be one that was released."""
    hashes = check(path)
    if trust is not None:
        check_authentic(path, hashes, trust)
    return len(hashes)


def claimed_version(path: Path) -> str:
    """The version a self-consistent release says it is (datapackage.json), to look it up by."""
    package = json.loads(read_small(members(path)[PACKAGE], MAX_PACKAGE_BYTES))
    version = package.get("version")
    if not isinstance(version, str) or not version:
        raise VerificationFailed(f"{path}'s {PACKAGE} has no `version`, so it cannot be looked up in the "
                                 "registry of released versions; pass --no-registry to skip that check.")
    return version


def check_authentic(path: Path, hashes: dict[str, str], trust: registry.Trust) -> None:
    """A zip is checked by its own sha256; a directory by the sha256 of its SHA256SUMS, which lists
    (and, being verified, matches) every file in it."""
    version = claimed_version(path)
    if path.is_dir():
        trust.check(version, "contents", f"{path}/{archive.SUMS}", hashes[archive.SUMS], user_digest=True)
    else:
        trust.check(version, "zip", str(path), archive.sha256_file(path), user_digest=True)


def unpack(zip_path: Path, target: Path, hashes: dict[str, str]) -> None:
    """Extract a verified release zip into `target` (a new directory), in chunks, creating every file
    anew (never through a link, never over an existing file) and checking each against `hashes`."""
    files = zip_members(zip_path)
    if set(files) != set(hashes):
        raise VerificationFailed(f"{zip_path} changed while it was being unpacked.")
    target.mkdir()
    for relative, member in files.items():
        destination = target / relative
        destination.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(destination, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, archive.FILE_MODE)
        sha = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            for chunk in read_chunks(member):
                sha.update(chunk)
                out.write(chunk)
        if sha.hexdigest() != hashes[relative]:
            raise VerificationFailed(f"{relative} in {zip_path.name} changed while it was being unpacked.")
