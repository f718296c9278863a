"""`python -m pipeline download --version X`: fetch a release from the release page, verify it, unpack it.

Assets are fetched from <base-url>/v<version>/<asset>, the layout of a GitHub release page and of
dist/ (`make release`). The zip and the DuckDB file are checked against the release's asset
SHA256SUMS; the zip's contents against its own SHA256SUMS and datapackage.json.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from pipeline import archive, project, verify
from pipeline.errors import InputError, OutputError, VerificationFailed

BASE_URL_ENV = "BAOSHAN_RELEASE_URL"
TIMEOUT_S = 60


def default_base_url() -> str:
    url = os.environ.get(BASE_URL_ENV) or project.pyproject().get("urls", {}).get("Releases")
    if not url:
        raise InputError(f"no release URL is configured; pass --base-url, set {BASE_URL_ENV}, or add "
                         "[project.urls] Releases to pyproject.toml.")
    return url


def fetch(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_S) as response:
            return response.read()
    except (urllib.error.URLError, OSError) as error:
        raise InputError(f"cannot download {url}: {getattr(error, 'reason', error)}") from None


def checked(url: str, name: str, sums: dict[str, str]) -> bytes:
    data = fetch(f"{url}/{name}")
    if name not in sums:
        raise VerificationFailed(f"{name} is not listed in the release's {archive.SUMS}.")
    if archive.sha256_bytes(data) != sums[name]:
        raise VerificationFailed(f"{url}/{name} does not match the release's {archive.SUMS}.")
    return data


def run(version: str, base_url: str | None, dest: Path) -> Path:
    """Download release `version` into dest/; return the unpacked release directory."""
    url = f"{(base_url or default_base_url()).rstrip('/')}/v{version}"
    name = project.release_name(version)
    target = dest / name
    if target.exists():
        raise OutputError(f"{target} already exists; remove it or choose another --dest.")
    sums = archive.parse_sums(fetch(f"{url}/{archive.SUMS}").decode("utf-8", "replace"))
    zip_bytes = checked(url, f"{name}.zip", sums)
    duckdb_bytes = checked(url, f"{name}.duckdb", sums)
    try:
        dest.mkdir(parents=True, exist_ok=True)
        scratch = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=dest))
    except OSError as error:
        raise OutputError(f"cannot write to {dest}: {error.strerror}.") from None
    try:
        zip_path = scratch / f"{name}.zip"
        zip_path.write_bytes(zip_bytes)
        verify.run(zip_path)
        with zipfile.ZipFile(zip_path) as z:
            if {n.split("/", 1)[0] for n in z.namelist()} != {name}:
                raise VerificationFailed(f"{name}.zip does not hold a single {name}/ directory.")
            z.extractall(scratch)  # zipfile drops absolute paths and ".." from member names
        (scratch / name).rename(target)
        (dest / f"{name}.duckdb").write_bytes(duckdb_bytes)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return target
