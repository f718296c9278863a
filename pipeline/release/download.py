"""`python -m pipeline download`: fetch a release from its page, check it against the release's
SHA256SUMS, verify it and unpack it.

The server is untrusted. Every asset has a size cap (checked against Content-Length before reading
and again while reading), every read has a timeout, and the whole download has a deadline
(`--timeout`) that a watchdog enforces by shutting the sockets, so a server that streams forever or
sends a byte every few seconds is refused. Every byte read counts against the asset's cap: status
lines and headers too, those of redirects included, and a redirect is followed without reading its
body. Assets are streamed to a private scratch directory inside
--dest, hashed on the way, and only moved into place once verified; nothing is written through a
link and no existing file is replaced.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import shutil
import socket
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from pathlib import Path

from pipeline.errors import InputError, OutputError, VerificationFailed, join_capped
from pipeline.release import archive, progress, project, registry, verify

TIMEOUT_S = 600  # the whole download, unless --timeout says otherwise
READ_TIMEOUT_S = 30  # one read from the server
MiB = 1 << 20
MAX_SUMS_BYTES = 64 * 1024
MAX_ZIP_BYTES = 256 * MiB
MAX_DUCKDB_BYTES = 256 * MiB
CHUNK = 1 * MiB
VERSION = re.compile(r"[0-9A-Za-z][0-9A-Za-z.+-]{0,63}")


def default_base_url() -> str:
    url = project.release_base_url()
    if not url:
        raise InputError(f"no release URL is configured; pass --base-url, set {project.BASE_URL_ENV[0]}, or add "
                         "[project.urls] Releases to pyproject.toml.")
    return url


class Deadline:
    """Shuts every registered socket when the time is up, which ends any read blocked on it."""

    def __init__(self, seconds: float):
        self.seconds = seconds
        self.end = time.monotonic() + seconds
        self.expired = False
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self.expire)
        self._timer.daemon = True
        self._timer.start()

    def expire(self) -> None:
        with self._lock:
            self.expired = True
            for sock in self._sockets:
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def register(self, sock: socket.socket) -> socket.socket:
        with self._lock:
            self._sockets.append(sock)
            if self.expired:
                sock.shutdown(socket.SHUT_RDWR)
        return sock

    def remaining(self) -> float:
        return self.end - time.monotonic()

    def cancel(self) -> None:
        self._timer.cancel()


class Budget:
    """The bytes one asset may take from the network: status lines, headers and the headers of every
    redirect count, not only the body, so no part of a response escapes the asset's cap."""

    def __init__(self, url: str, cap: int):
        self.url, self.cap, self.used = url, cap, 0

    def spend(self, data: bytes | int | None) -> None:
        self.used += data if isinstance(data, int) else len(data or b"")
        if self.used > self.cap:
            raise VerificationFailed(f"{self.url} sent more than {self.cap:,} bytes, the limit for this asset "
                                     "(headers and redirects count); the download was stopped and nothing was kept.")


class Counted:
    """A response's socket file whose every read is charged to a Budget."""

    def __init__(self, raw, budget: Budget):
        self._raw, self._budget = raw, budget

    def _charged(self, data: bytes) -> bytes:
        self._budget.spend(data)
        return data

    def read(self, *args) -> bytes:
        return self._charged(self._raw.read(*args))

    def read1(self, *args) -> bytes:
        return self._charged(self._raw.read1(*args))

    def readline(self, *args) -> bytes:
        return self._charged(self._raw.readline(*args))

    def readinto(self, buffer) -> int:
        count = self._raw.readinto(buffer)
        self._budget.spend(count)
        return count

    def __getattr__(self, name: str):  # peek, close, fileno, ...: nothing is consumed
        return getattr(self._raw, name)


def _watched(base: type[http.client.HTTPConnection], deadline: Deadline, budget: Budget) -> type:
    class Response(http.client.HTTPResponse):
        def __init__(self, sock, *args, **kwargs):
            super().__init__(sock, *args, **kwargs)
            self.fp = Counted(self.fp, budget)

    class Watched(base):  # type: ignore[valid-type, misc]
        response_class = Response

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            create = self._create_connection
            self._create_connection = lambda *a, **k: deadline.register(create(*a, **k))
    return Watched


class RedirectWithoutBody(urllib.request.HTTPRedirectHandler):
    """Follows a redirect without reading its body: urllib's handler reads the whole body into memory
    first, so a server could send an endless one past every cap."""

    def http_error_302(self, req, fp, code, msg, headers):
        fp.close()  # a closed response reads as empty
        return super().http_error_302(req, fp, code, msg, headers)

    http_error_301 = http_error_303 = http_error_307 = http_error_308 = http_error_302


def opener(deadline: Deadline, budget: Budget) -> urllib.request.OpenerDirector:
    """HTTP and HTTPS only (a redirect to file: or ftp: is an error), every socket under the deadline
    and every byte read charged to `budget`."""

    class HTTP(urllib.request.HTTPHandler):
        def http_open(self, req):
            return self.do_open(_watched(http.client.HTTPConnection, deadline, budget), req)

    class HTTPS(urllib.request.HTTPSHandler):
        def https_open(self, req):
            return self.do_open(_watched(http.client.HTTPSConnection, deadline, budget), req,
                                context=self._context)

    director = urllib.request.OpenerDirector()
    for handler in (urllib.request.ProxyHandler(), HTTP(), HTTPS(), RedirectWithoutBody(),
                    urllib.request.HTTPDefaultErrorHandler(), urllib.request.HTTPErrorProcessor()):
        director.add_handler(handler)
    return director


def fetch(url: str, deadline: Deadline, cap: int, into: Path | None = None,
          show_progress: bool = False) -> tuple[bytes, str]:
    """Stream `url` into the file `into` (created anew) or into memory; return (bytes read into memory,
    sha256). Refused past `cap` bytes (exit 5) or the deadline (exit 2). With `show_progress`, a
    progress bar on stderr when it is a terminal."""
    sha, size, chunks = hashlib.sha256(), 0, []
    try:
        timeout = max(0.1, min(READ_TIMEOUT_S, deadline.remaining()))
        with opener(deadline, Budget(url, cap)).open(url, timeout=timeout) as response:
            length = response.headers.get("Content-Length", "")
            if length.isdigit() and int(length) > cap:
                raise VerificationFailed(f"{url} is {int(length):,} bytes, over the limit of {cap:,} for this "
                                         "asset; nothing was written.")
            out = None if into is None else os.fdopen(
                os.open(into, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, archive.FILE_MODE), "wb")
            bar = progress.Bar(url.rsplit("/", 1)[-1], int(length) if length.isdigit() else None, show_progress)
            try:
                while chunk := response.read1(CHUNK):
                    size += len(chunk)
                    if size > cap:
                        raise VerificationFailed(f"{url} sent more than {cap:,} bytes, the limit for this asset; "
                                                 "the download was stopped and nothing was kept.")
                    if deadline.remaining() <= 0:
                        raise TimeoutError("deadline")
                    sha.update(chunk)
                    bar.advance(len(chunk))
                    if out is None:
                        chunks.append(chunk)
                    else:
                        out.write(chunk)
            finally:
                bar.close()
                if out is not None:
                    out.close()
            if deadline.expired:  # the watchdog shut the socket, which reads as the end of the body
                raise TimeoutError("deadline")
            if length.isdigit() and size != int(length):
                raise InputError(f"cannot download {url}: the server sent {size:,} of {int(length):,} bytes.")
    except (urllib.error.URLError, OSError, http.client.HTTPException, ValueError) as error:
        if deadline.expired or deadline.remaining() <= 0:
            raise InputError(f"cannot download {url}: the download took longer than its deadline of "
                             f"{deadline.seconds:g} s (--timeout); nothing was kept.") from None
        raise InputError(f"cannot download {url}: {getattr(error, 'reason', None) or error}") from None
    return b"".join(chunks), sha.hexdigest()


def fetch_checked(url: str, name: str, sums: dict[str, str], deadline: Deadline, cap: int, into: Path,
                  show_progress: bool = False) -> None:
    if name not in sums:
        raise VerificationFailed(f"{name} is not listed in the release's {archive.SUMS}.")
    _, digest = fetch(f"{url}/{name}", deadline, cap, into, show_progress)
    if digest != sums[name]:
        raise VerificationFailed(f"{url}/{name} does not match the release's {archive.SUMS}.")


def refuse_existing(*paths: Path) -> None:
    """Never replace a file, and never write through a link (a dangling one included)."""
    for path in paths:
        if os.path.lexists(path):
            kind = "a symbolic link" if path.is_symlink() else "already there"
            raise OutputError(f"{path} is {kind}; download never replaces a file or writes through a link. "
                              "Remove it or choose another --dest.")


def place_file(source: Path, target: Path) -> None:
    """Move a verified file into place without replacing anything: link() fails if target exists."""
    try:
        os.link(source, target, follow_symlinks=False)
    except FileExistsError:
        refuse_existing(target)
        raise
    except OSError:  # no hard links on this file system: copy into a file created anew
        with open(source, "rb") as f, os.fdopen(os.open(
                target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, archive.FILE_MODE), "wb") as out:
            shutil.copyfileobj(f, out, CHUNK)


def run(version: str, base_url: str | None, dest: Path, timeout: float = TIMEOUT_S,
        trust: registry.Trust | None = None, show_progress: bool = False) -> Path:
    """Download release `version` into dest/; return the unpacked release directory. With `trust` (the
    command line's default), the release page's SHA256SUMS and the zip must be the ones released."""
    if not VERSION.fullmatch(version):
        raise InputError(f"{version!r} is not a release version (for example 1.0.0).")
    if not timeout > 0:
        raise InputError(f"--timeout must be a positive number of seconds, not {timeout}.")
    url = f"{(base_url or default_base_url()).rstrip('/')}/v{version}"
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise InputError(f"{url} is not an http or https URL.")
    name = project.release_name(version)
    target, duckdb_target = dest / name, dest / f"{name}.duckdb"
    refuse_existing(target, duckdb_target)
    try:
        dest.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{name}-download-", dir=dest))
    except OSError as error:
        raise OutputError(f"cannot write to {dest}: {error.strerror}.") from None
    deadline = Deadline(timeout)
    try:
        text, sums_digest = fetch(f"{url}/{archive.SUMS}", deadline, MAX_SUMS_BYTES)
        if trust is not None:
            trust.check(version, "sums", f"{url}/{archive.SUMS}", sums_digest)
        sums, problems = verify.parse_sums(text)
        if problems:
            raise VerificationFailed(f"the release's {archive.SUMS} is not a checksum list:\n  "
                                     + join_capped(problems))
        zip_path, duckdb_path = scratch / f"{name}.zip", scratch / f"{name}.duckdb"
        fetch_checked(url, zip_path.name, sums, deadline, MAX_ZIP_BYTES, zip_path, show_progress)
        if trust is not None:  # fetch_checked has matched the zip's digest with the list's
            trust.check(version, "zip", f"{url}/{zip_path.name}", sums[zip_path.name], user_digest=True)
        fetch_checked(url, duckdb_path.name, sums, deadline, MAX_DUCKDB_BYTES, duckdb_path, show_progress)
        hashes = verify.check(zip_path)
        with zipfile.ZipFile(zip_path) as z:
            if {n.split("/", 1)[0] for n in z.namelist()} != {name}:
                raise VerificationFailed(f"{name}.zip does not hold a single {name}/ directory.")
        try:
            verify.unpack(zip_path, scratch / name, hashes)
        except (OSError, EOFError, RuntimeError, NotImplementedError, zipfile.BadZipFile) as error:
            raise VerificationFailed(f"{zip_path.name} cannot be unpacked: {error}.") from None
        refuse_existing(target, duckdb_target)
        (scratch / name).rename(target)
        try:
            place_file(duckdb_path, duckdb_target)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)  # moved there a moment ago by this run
            raise
    finally:
        deadline.cancel()
        shutil.rmtree(scratch, ignore_errors=True)
    return target
