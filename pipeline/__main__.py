"""Command line: `python -m pipeline {build,mentions,manifest,release,verify,download}`."""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from pathlib import Path

from pipeline import config
from pipeline.errors import EXIT_CODES, InputError, report, stdout_closed_quietly
from pipeline.scratch import scratch_directory

EPILOG = "exit codes:\n  0  success\n" + "\n".join(f"  {code}  {text}" for code, text in EXIT_CODES.items())


def build(args: argparse.Namespace) -> None:
    """All stages in order, handing files over in a build directory, as `make dataset` does."""
    from pipeline import database

    started = time.perf_counter()
    if not args.check:
        database.start()  # its import of duckdb overlaps the stages' imports (pipeline.database)
    try:
        _build(args, started)
    finally:
        database.discard()


def _build(args: argparse.Namespace, started: float) -> None:
    from pipeline import output_directory
    from pipeline.stages import extract, ingest, publish, related, tables, validate

    if not args.check and args.out.absolute().parent.is_dir():
        # Refuse a foreign --out before the work, not after.
        output_directory.check_target(args.out.absolute(), publish.OUTPUT)
    with scratch_directory() as scratch:
        build_dir = Path(args.build_dir) if args.build_dir else scratch
        paths = config.build_paths(build_dir)
        build_dir.mkdir(parents=True, exist_ok=True)
        document = ingest.run(args.raw, paths["ingest"], args.encoding)
        extracted = extract.run(paths["ingest"], paths["extract"])
        others = related.run(paths["related"])
        tables.run(build_dir)
        checks = validate.run(build_dir)
        if not args.check:
            publish.run(build_dir, args.out)
    discrepancies = int((checks["status"] == "source_discrepancy").sum())
    done = f"checked {build_dir}/ (nothing published)" if args.check else f"built {args.out}/"
    print(f"{done} from {document['source_file']} (encoding {document['encoding']}, "
          f"sha256 {document['raw_sha256'][:12]}…): {len(extracted['facts'])} figures, "
          f"{len(extracted['mentions'])} mentions, {len(others['documents'])} related documents "
          f"({len(others['corroborations'])} corroborations), {len(checks)} checks "
          f"({discrepancies} source discrepancies) "
          f"in {time.perf_counter() - started:.1f} s")


def mentions(args: argparse.Namespace) -> None:
    """Stream every numeric mention of any UTF-8 text file as CSV or JSON lines."""
    from pipeline.numbers import FIELDS, scan_file
    from pipeline.stages.ingest import text_encoding

    encoding = text_encoding(args.encoding)
    if not args.file.is_file():
        raise InputError(f"{args.file} does not exist or is not a file.")
    out = sys.stdout
    with open(args.file, encoding=encoding, newline="") as f, stdout_closed_quietly():
        try:
            if args.format == "csv":
                writer = csv.writer(out, lineterminator="\n")
                writer.writerow(FIELDS)
                writer.writerows(scan_file(f))
            else:
                for mention in scan_file(f):
                    out.write(json.dumps(mention._asdict(), ensure_ascii=False) + "\n")
            out.flush()
        except UnicodeDecodeError as error:
            raise InputError(f"{args.file} is not valid {encoding} ({error.reason} at byte "
                             f"{error.start}); pass --encoding, for example --encoding gb18030.") from None


def manifest(args: argparse.Namespace) -> None:
    from pipeline.stages.ingest import update_manifest

    update_manifest()


def release(args: argparse.Namespace) -> None:
    from pipeline.release import archive
    from pipeline.release import build as release_

    built = release_.build(args.dataset, args.dist)
    print(f"released {built.directory.name}: {built.zip} (sha256 {archive.sha256_file(built.zip)}), "
          f"assets in {built.assets}/")
    if args.registry is not None:
        added = release_.register(built, args.registry, args.registry.parent)
        print(f"{'recorded' if added else 'already recorded'} in {args.registry}; wrote CITATION.cff and "
              f".zenodo.json beside it: commit them with the release")


def trust(args: argparse.Namespace):
    """--registry, --no-registry and --sha256 as one policy (pipeline.release.registry.Trust)."""
    from pipeline.release import registry

    return registry.Trust(None if args.no_registry else args.registry, args.sha256)


def verified_against(args: argparse.Namespace) -> str:
    checks = [] if args.no_registry else [f"the registry ({args.registry.name})"]
    return " and ".join(checks + (["--sha256"] if args.sha256 else [])) or "nothing else (--no-registry)"


def verify(args: argparse.Namespace) -> None:
    from pipeline.release import verify as verify_

    count = verify_.run(args.path, trust(args))
    print(f"verified {args.path}: {count} files match SHA256SUMS and datapackage.json, and the release "
          f"against {verified_against(args)}")


def download(args: argparse.Namespace) -> None:
    from pipeline.release import download as download_

    if args.timeout is None:
        args.timeout = download_.TIMEOUT_S

    target = download_.run(args.version, args.base_url, args.dest, args.timeout, trust(args), show_progress=True)
    print(f"downloaded and verified {target} against its SHA256SUMS and {verified_against(args)}")


def authenticity_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--registry", type=Path, default=config.RELEASE_REGISTRY,
                   help="registry of released versions and their digests (default: %(default)s)")
    p.add_argument("--no-registry", action="store_true",
                   help="skip the registry: accept a release that is only consistent with its own checksums")
    p.add_argument("--sha256", default=None, metavar="DIGEST",
                   help="the release zip's sha256, from a source you trust (for a release directory: the sha256 "
                   "of its SHA256SUMS); checked as well as the registry, and enough for a version it does not know")


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__,
                                   epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = main.add_subparsers(dest="command", required=True)

    p = commands.add_parser("build", help="run every stage and publish the dataset", epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter,
                            description="Run ingest, extract, tables, validate and publish on one raw text. "
                            "The manifest hash check applies to the default raw file only; any other "
                            "input has its sha256 recorded in the output metadata.")
    p.add_argument("--raw", type=Path, default=config.RAW_FILE, help="raw text (default: %(default)s)")
    p.add_argument("--out", type=Path, default=config.OUTPUT_DIR, help="output directory (default: %(default)s)")
    p.add_argument("--encoding", default=None, help="text encoding; detected when omitted (UTF-8, UTF-16 "
                   "with BOM, GB18030/GBK)")
    p.add_argument("--build-dir", default=None, help="keep intermediate files here (default: a temporary directory)")
    p.add_argument("--check", action="store_true", help="run every stage up to validation and publish nothing; "
                   "with --build-dir, the validated tables stay in BUILD_DIR/tables and BUILD_DIR/checks.parquet")
    p.set_defaults(run=build)

    p = commands.add_parser("mentions", help="list every numeric mention in a text file", epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter,
                            description="Run the generic tokenizer on any text and write one row per "
                            "mention: char_start, char_end, text, value, value_max, unit, qualifier, kind. "
                            "Reads in chunks, so memory stays bounded on large files and long lines.")
    p.add_argument("file", type=Path)
    p.add_argument("--format", choices=["csv", "json"], default="csv", help="csv, or JSON lines")
    p.add_argument("--encoding", default="utf-8")
    p.set_defaults(run=mentions)

    p = commands.add_parser("manifest", help="rewrite raw/manifest.yaml's hash and size after a deliberate change")
    p.set_defaults(run=manifest)

    p = commands.add_parser("release", help="build the versioned release from a built dataset (make release)",
                            epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                            description="Write dist/baoshan-resettlement-<version>/, its reproducible zip, and the "
                            "assets of the release page in dist/v<version>/. Refused when CHANGELOG.md has no "
                            "entry for the version in pyproject.toml. Timestamps come from SOURCE_DATE_EPOCH, "
                            "else the last commit, else the document's date.")
    p.add_argument("--dataset", type=Path, default=config.OUTPUT_DIR, help="built dataset (default: %(default)s)")
    p.add_argument("--dist", type=Path, default=config.ROOT / "dist", help="release directory (default: %(default)s)")
    p.add_argument("--registry", type=Path, default=config.RELEASE_REGISTRY, help="record the release's digests here, "
                   "and write CITATION.cff and .zenodo.json beside it (default: %(default)s, at the repository root)")
    p.add_argument("--no-registry", dest="registry", action="store_const", const=None,
                   help="record nothing in the repository (a trial release)")
    p.set_defaults(run=release)

    p = commands.add_parser("verify", help="check a release zip or directory against its checksums",
                            epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
                            description="Check every file against SHA256SUMS and the sizes and hashes in "
                            "datapackage.json; report every missing, extra or altered file.")
    p.add_argument("path", type=Path)
    authenticity_options(p)
    p.set_defaults(run=verify)

    p = commands.add_parser("download", help="fetch, verify and unpack a release", epilog=EPILOG,
                            formatter_class=argparse.RawDescriptionHelpFormatter,
                            description="Fetch <base-url>/v<version>/ assets (the zip and the DuckDB file), "
                            "check them against the release's SHA256SUMS, verify the zip and unpack it.")
    p.add_argument("--version", required=True, help="release version, for example 1.0.0")
    p.add_argument("--base-url", default=None, help="release page (default: $RELEASE_BASE_URL, "
                   "else [project.urls] Releases in pyproject.toml)")
    p.add_argument("--dest", type=Path, default=Path("."), help="where to unpack (default: the current directory)")
    p.add_argument("--timeout", type=float, default=None, metavar="SECONDS",
                   help="deadline for the whole download (default: 600); every read also times out after 30 s")
    authenticity_options(p)
    p.set_defaults(run=download)
    return main


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    report(lambda: args.run(args))


if __name__ == "__main__":
    if sys.argv[1:2] == ["build"]:
        config.tune_gc_for_one_build()
    main()
