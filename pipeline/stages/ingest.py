"""Stage 1, ingest: raw bytes -> decoded text with its header, letter metadata and sections.

Offsets are code-point offsets into the decoded text (a leading BOM is not part of it), and
every span written here satisfies ``text[char_start:char_end] == value``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import re
from bisect import bisect_right
from pathlib import Path

from pipeline import config, yaml_input
from pipeline.errors import InputError, ValidationFailed, report

# GB18030 is a superset of GBK and GB2312, so one attempt covers all three.
ENCODINGS = ("utf-8", "gb18030")
HEADER_KEYS = ("索引号", "发布机构", "公开目录", "发布日期", "文号", "浏览量")
_HEADING = re.compile(r"[ \t\u3000]*([一二三四五六七八九十]+)、(\S.{0,40}?)[ \t\u3000]*$")
_LINE = re.compile(r"[^\n]*\n|[^\n]+$")
# A sentence ends at a full stop, exclamation or question mark or semicolon (full-width or ASCII),
# with any closing quotes or brackets that follow it, or at the end of its line.
_TERMINATORS = "。！？；!?;"
_SENTENCE = re.compile(rf"[^\n{_TERMINATORS}]*(?:[{_TERMINATORS}][”’」』）)]*|\n|$)")
_BLANK = " \t\u3000\r\n"


def read_raw(path: Path) -> bytes:
    if not path.exists():
        raise InputError(f"{path} does not exist. Pass the path of the source text with --raw FILE.")
    if not path.is_file():
        raise InputError(f"{path} is not a regular file. Pass the path of the source text with --raw FILE.")
    size = path.stat().st_size
    if size == 0:
        raise InputError(f"{path} is empty. Check that the download or copy completed.")
    if size > config.MAX_RAW_BYTES:
        raise InputError(
            f"{path} is {size:,} bytes, over the {config.MAX_RAW_BYTES:,}-byte limit for one document. "
            "This pipeline reads one reply letter (about 11 KB); to scan a large corpus for numbers, "
            "use `python -m pipeline mentions FILE`, which streams."
        )
    return path.read_bytes()


def text_encoding(name: str) -> str:
    """`name` if Python decodes bytes to text with it (`--encoding`); else one InputError, exit 2."""
    try:
        io.TextIOWrapper(io.BytesIO(), encoding=name)  # as open() does: rot13 and hex are codecs, but not text
    except LookupError:
        raise InputError(f"--encoding {name!r} is not a text encoding; name one such as utf-8, gb18030, gbk, big5 "
                         "or utf-16.") from None
    return name


def decode(raw: bytes, encoding: str | None = None) -> tuple[str, str]:
    """Decode with the given encoding, or detect UTF-8 (with or without BOM) / UTF-16 / GB18030."""
    if encoding:
        candidates = [text_encoding(encoding)]
    elif raw.startswith(b"\xef\xbb\xbf"):
        candidates = ["utf-8-sig"]
    elif raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        candidates = ["utf-16"]
    else:
        candidates = list(ENCODINGS)
    for candidate in candidates:
        try:
            text = raw.decode(candidate)
        except (UnicodeDecodeError, LookupError):
            continue
        if _looks_binary(text):
            break
        return text, candidate
    raise InputError(
        f"the file could not be decoded as text (tried {', '.join(candidates)}). "
        "It may be binary or in another encoding; convert it to UTF-8, or name its encoding with --encoding."
    )


def _looks_binary(text: str) -> bool:
    controls = sum(1 for c in text if c < " " and c not in "\n\r\t\f")
    return controls > 0


def load_manifest() -> dict:
    """raw/manifest.yaml, read within the YAML bounds and checked against its model; any problem is one
    InputError (exit 2). The release and the page read it here too, so a missing key is named, not a
    KeyError later."""
    from pipeline.catalog_models import Manifest

    return yaml_input.load(config.MANIFEST, Manifest, InputError, fix="Fix raw/manifest.yaml.")


def check_manifest(path: Path, raw: bytes) -> None:
    manifest = load_manifest()
    digest = hashlib.sha256(raw).hexdigest()
    if manifest["file"] != path.name or manifest["sha256"] != digest or manifest["bytes"] != len(raw):
        raise InputError(
            f"{path.name} does not match raw/manifest.yaml (sha256 {digest}, {len(raw)} bytes; "
            f"manifest has {manifest['sha256']}, {manifest['bytes']} bytes). The raw file must stay "
            "byte-for-byte what was published. If you replaced it on purpose, run `make manifest`, "
            "review the diff of raw/manifest.yaml and commit both files together."
        )


def update_manifest(path: Path = config.RAW_FILE) -> None:
    raw = path.read_bytes()
    lines = config.MANIFEST.read_text(encoding="utf-8").splitlines(keepends=True)
    fields = {"file": path.name, "sha256": hashlib.sha256(raw).hexdigest(), "bytes": str(len(raw))}
    for i, line in enumerate(lines):
        key = line.split(":", 1)[0]
        if key in fields:
            lines[i] = f"{key}: {fields[key]}\n"
    config.MANIFEST.write_text("".join(lines), encoding="utf-8")
    print(f"raw/manifest.yaml updated: sha256 {fields['sha256']}, {fields['bytes']} bytes")


def _lines(text: str) -> list[tuple[int, int, str]]:
    """(start, end, content) of every line; end excludes the line break and trailing blanks."""
    lines = []
    for match in _LINE.finditer(text):
        content = match.group().rstrip("\r\n").rstrip(" \t\u3000")
        lines.append((match.start(), match.start() + len(content), content))
    return lines


def _span(text: str, start: int, end: int) -> dict:
    return {"value": text[start:end], "char_start": start, "char_end": end}


def parse_header(text: str, lines: list[tuple[int, int, str]]) -> tuple[dict, int]:
    """Parse the disclosure table ('索引号 | … | 发布机构 | … |'); return fields and lines used."""
    header: dict = {}
    used = 0
    for start, _end, content in lines:
        if not content:
            used += 1
            continue
        if "|" not in content:
            break
        used += 1
        cells = []
        position = start
        for cell in content.split("|"):
            stripped = cell.strip()
            offset = position + (cell.find(stripped) if stripped else 0)
            cells.append((stripped, offset))
            position += len(cell) + 1
        for i, (cell, _) in enumerate(cells):
            if cell in HEADER_KEYS:
                value, offset = cells[i + 1] if i + 1 < len(cells) else ("", 0)
                header[cell] = None if not value or value in HEADER_KEYS else _span(text, offset, offset + len(value))
    missing = [key for key in ("索引号", "发布机构", "公开目录", "发布日期") if not header.get(key)]
    if missing:
        raise ValidationFailed(
            "check header_fields failed: the disclosure header lacks " + ", ".join(missing)
            + ". The text must start with the government disclosure table (索引号 | … | 发布机构 | … |)."
        )
    return header, used


def parse_letter(text: str, start: int, end: int) -> dict:
    """The letter's own metadata, from its opening lines."""
    opening = text[start:end]
    # Each pattern's attempts cannot overlap (a session holds no 在, a title no 《 or 》), so a search
    # examines each character a bounded number of times: linear time, whatever the opening holds.
    fields = {
        "addressee": r"^\s*(\S+?)[:：]",
        "session": r"在([^\s在]+?会议)提出",
        "title": r"《([^《》\n]+)》的提案",
        "proposal_number": r"第([0-9０-９]+)号",
    }
    letter = {}
    for name, pattern in fields.items():
        match = re.search(pattern, opening)
        if not match:
            raise ValidationFailed(
                f"check letter_metadata failed: cannot find the letter's {name} in its opening lines "
                f"(pattern {pattern!r}). Is this the reply letter's layout?"
            )
        letter[name] = _span(text, start + match.start(1), start + match.end(1))
    return letter


def split_sections(text: str, lines: list[tuple[int, int, str]], first_body_line: int) -> list[dict]:
    """Opening, introduction, numbered sections (heading + one paragraph) and closing."""
    body = [line for line in lines[first_body_line:] if line[2]]
    opening_end = next((i for i, line in enumerate(body) if re.search(r"如下[:：]$", line[2])), None)
    if opening_end is None:
        raise ValidationFailed(
            "check document_layout failed: no opening paragraph ending in 如下: was found, "
            "so the letter's introduction cannot be located."
        )
    sections = [{"section_id": "opening", "ordinal_zh": None, "title_zh": None,
                 "char_start": body[0][0], "char_end": body[opening_end][1]}]
    headings = [i for i, line in enumerate(body) if i > opening_end and _HEADING.fullmatch(line[2])]
    if not headings:
        raise ValidationFailed("check document_layout failed: no numbered section heading (一、…) was found.")
    intro = body[opening_end + 1 : headings[0]]
    if intro:
        sections.append({"section_id": "introduction", "ordinal_zh": None, "title_zh": None,
                         "char_start": intro[0][0], "char_end": intro[-1][1]})
    # A section runs to the next heading; the last one is its heading and one paragraph,
    # because the closing paragraphs that follow it belong to the letter, not to the section.
    ends = [next_heading - 1 for next_heading in headings[1:]] + [min(headings[-1] + 1, len(body) - 1)]
    for number, (i, paragraph_end) in enumerate(zip(headings, ends, strict=True), start=1):
        heading = _HEADING.fullmatch(body[i][2])
        sections.append({
            "section_id": f"section_{number}",
            "ordinal_zh": heading.group(1),
            "title_zh": heading.group(2),
            "char_start": body[i][0] + heading.start(1),
            "char_end": body[paragraph_end][1],
        })
    closing = body[ends[-1] + 1 :]
    if closing:
        sections.append({"section_id": "closing", "ordinal_zh": None, "title_zh": None,
                         "char_start": closing[0][0], "char_end": closing[-1][1]})
    return sections


def split_sentences(text: str, sections: list[dict]) -> list[dict]:
    """Every sentence of the text, trimmed of surrounding blanks: header lines, headings and the
    clauses between terminators are rows of their own. Together they cover every character of the
    text that is not a blank, once and in order."""
    sentences: list[dict] = []
    counts: dict[str, int] = {}
    section_starts = [s["char_start"] for s in sections]
    for match in _SENTENCE.finditer(text):
        piece = match.group()
        start = match.start() + len(piece) - len(piece.lstrip(_BLANK))
        end = match.start() + len(piece.rstrip(_BLANK))
        if end <= start:
            continue
        section = sections[bisect_right(section_starts, start) - 1]["section_id"]
        position = counts[section] = counts.get(section, 0) + 1
        sentences.append({"sentence_id": f"{section}.s{position:02d}", "section": section, "position": position,
                          "char_start": start, "char_end": end, "text_zh": text[start:end]})
    return sentences


def parse(text: str) -> dict:
    lines = _lines(text)
    header, used = parse_header(text, lines)
    sections = split_sections(text, lines, used)
    header_end = lines[used - 1][1] if used else 0
    sections.insert(0, {"section_id": "header", "ordinal_zh": None, "title_zh": None,
                        "char_start": 0, "char_end": header_end})
    opening = next(s for s in sections if s["section_id"] == "opening")
    letter = parse_letter(text, opening["char_start"], opening["char_end"])
    return {"header": header, "letter": letter, "sections": sections, "sentences": split_sentences(text, sections)}


def ingest(raw_path: Path, encoding: str | None = None, enforce_manifest: bool = False) -> dict:
    raw = read_raw(raw_path)
    if enforce_manifest:
        check_manifest(raw_path, raw)
    text, used_encoding = decode(raw, encoding)
    try:
        parsed = parse(text)
    except ValidationFailed as failed:
        if encoding or used_encoding.startswith("utf"):
            raise
        # GB18030 decodes almost any bytes, so a file in another encoding (Big5, Shift-JIS ...) arrives
        # here as nonsense; say so rather than report a missing header.
        raise InputError(f"{raw_path.name} decoded as {used_encoding}, a guess, but the document's layout was not "
                         f"found ({failed.args[0]}). The file may be in another encoding; name it with --encoding, "
                         "or convert the file to UTF-8.") from None
    return {
        "source_file": raw_path.name,
        "raw_sha256": hashlib.sha256(raw).hexdigest(),
        "raw_bytes": len(raw),
        "encoding": used_encoding,
        "text": text,
        **parsed,
    }


def run(raw_path: Path = config.RAW_FILE, out_path: Path | None = None, encoding: str | None = None) -> dict:
    out_path = out_path or config.build_paths(config.BUILD_DIR)["ingest"]
    enforce_manifest = raw_path.resolve() == config.RAW_FILE.resolve()
    document = ingest(raw_path, encoding, enforce_manifest)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    out_path.write_text(json.dumps(document, ensure_ascii=False, indent=1), encoding="utf-8")
    return document


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--raw", type=Path, default=config.RAW_FILE)
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--encoding", default=None)
    args = parser.parse_args()
    document = run(args.raw, args.out, args.encoding)
    print(f"ingest: {document['source_file']} ({document['encoding']}, {len(document['text'])} characters, "
          f"{len(document['sections'])} sections, {len(document['sentences'])} sentences)")


if __name__ == "__main__":
    report(main)
