"""Tests of ingestion: encoding detection, folders, tables, manifests, and the real corpora.

Encoded fixtures are built here from Python strings in ``tmp_path``, so the repository
holds no binary files.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import os
import re
import threading
import time
from pathlib import Path

import opencc
import pytest
import yaml
from pydantic import ValidationError

from policytopics.config import CorpusConfig
from policytopics.ingest import (
    CorpusError,
    DecodeError,
    MAX_REPLACED_SHARE,
    binary_kind,
    decode_bytes,
    decode_bytes_repairing,
    load_manifest,
    read_corpus,
)

REPO_ROOT = Path(__file__).resolve().parents[1]
SEEDS = REPO_ROOT / "seeds"
CITY_REPORTS = REPO_ROOT.parent / "shared" / "corpora" / "city-reports-2024"
ENCODINGS = ["utf-8", "gb18030", "big5", "utf-16"]

SIMPLIFIED = "开发区要坚持招商引资,推进项目建设,优化营商环境。"
TRADITIONAL = "開發區要堅持招商引資,推進項目建設,優化營商環境。"
#: Invalid in UTF-8, GB18030 and Big5 (0xFF is never a lead byte), and of odd length for UTF-16.
GARBAGE = b"\xff\x80\x00" * 5
PINYIN = re.compile(r"[\u4e00-\u9fff]\([a-zāáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜü]+\)")


def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError:
        return False
    return True


def _write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def _symlink(target: str, link: Path) -> None:
    try:
        os.symlink(target, link)
    except (OSError, NotImplementedError) as exc:
        pytest.skip(f"symbolic links are not supported here ({exc})")


# --------------------------------------------------------------------------------------
# decode_bytes
# --------------------------------------------------------------------------------------


def test_utf8_and_utf8_bom():
    assert decode_bytes(SIMPLIFIED.encode("utf-8"), ENCODINGS) == (SIMPLIFIED, "utf-8")
    data = codecs.BOM_UTF8 + SIMPLIFIED.encode("utf-8")
    assert decode_bytes(data, ENCODINGS) == (SIMPLIFIED, "utf-8-sig")


def test_gb18030_simplified_beats_big5_that_also_decodes():
    data = SIMPLIFIED.encode("gb18030")
    assert _decodes(data, "big5"), "fixture must be ambiguous: Big5 also decodes it"
    assert decode_bytes(data, ENCODINGS) == (SIMPLIFIED, "gb18030")
    # Order of the candidates does not decide it: the plausibility score does.
    assert decode_bytes(data, ["big5", "gb18030"]) == (SIMPLIFIED, "gb18030")


def test_big5_traditional_beats_gb18030_that_also_decodes():
    data = TRADITIONAL.encode("big5")
    assert _decodes(data, "gb18030"), "fixture must be ambiguous: GB18030 also decodes it"
    assert decode_bytes(data, ENCODINGS) == (TRADITIONAL, "big5")


def test_big5_is_scored_after_conversion_to_simplified():
    # Nearly every character here differs between the scripts, and jieba's dictionary is
    # simplified: only the t2s conversion makes the right decoding look plausible.
    text = "開發區經濟工作會議領導講話"
    assert opencc.OpenCC("t2s").convert(text) == "开发区经济工作会议领导讲话"
    data = text.encode("big5")
    assert _decodes(data, "gb18030"), "fixture must be ambiguous: GB18030 also decodes it"
    assert decode_bytes(data, ENCODINGS) == (text, "big5")


def test_traditional_text_in_gb18030_is_gb18030():
    text = (SEEDS / "000_c653e3a235d9673d.txt").read_text(encoding="utf-8")
    assert decode_bytes(text.encode("gb18030"), ENCODINGS) == (text, "gb18030")


@pytest.mark.parametrize("name", sorted(path.name for path in SEEDS.glob("*.txt")))
def test_real_seed_texts_reencoded_round_trip(name):
    text = (SEEDS / name).read_text(encoding="utf-8")
    assert decode_bytes(text.encode("gb18030"), ENCODINGS) == (text, "gb18030")
    if opencc.OpenCC("t2s").convert(text) != text:  # traditional files: also as Big5
        big5 = text.encode("big5", errors="ignore")  # drops pinyin tone letters
        assert decode_bytes(big5, ENCODINGS) == (big5.decode("big5"), "big5")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom(codec):
    bom = codecs.BOM_UTF16_LE if codec == "utf-16-le" else codecs.BOM_UTF16_BE
    data = bom + f"{SIMPLIFIED}\nGDP 2023\n".encode(codec)
    assert decode_bytes(data, ENCODINGS) == (f"{SIMPLIFIED}\nGDP 2023\n", "utf-16")


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom_found_by_nul_bytes(codec):
    text = f"{SIMPLIFIED}\n第1页 共2页\n"
    assert decode_bytes(text.encode(codec), ENCODINGS) == (text, codec)


def test_utf16_without_bom_is_not_tried_when_not_a_candidate():
    with pytest.raises(DecodeError):
        decode_bytes("开发区\n".encode("utf-16-le"), ["utf-8", "gb18030", "big5"])


@pytest.mark.parametrize("codec", ["utf-8", "gb18030", "big5", "utf-16"])
@pytest.mark.parametrize("line_end", ["\r\n", "\r"])
def test_crlf_and_cr_become_lf(codec, line_end):
    text = TRADITIONAL if codec == "big5" else SIMPLIFIED
    raw = f"{text}{line_end}第二段。{line_end}{line_end}GDP{line_end}"
    decoded, _ = decode_bytes(raw.encode(codec), ENCODINGS)
    assert decoded == f"{text}\n第二段。\n\nGDP\n"


def test_undecodable_bytes_raise_naming_every_encoding():
    for encoding in ("utf-8", "gb18030", "big5", "utf-16-le", "utf-16-be"):
        assert not _decodes(GARBAGE, encoding), f"fixture must fail {encoding}"
    assert b"\x00" in GARBAGE  # so that UTF-16 without a BOM is tried, and fails too
    with pytest.raises(DecodeError) as caught:
        decode_bytes(GARBAGE, ENCODINGS)
    message = str(caught.value)
    for encoding in ("utf-8", "gb18030", "big5", "utf-16-le", "utf-16-be"):
        assert encoding in message
    assert "\n" not in message


def test_bom_with_invalid_rest_is_an_error_not_a_guess():
    with pytest.raises(DecodeError, match="byte-order mark"):
        decode_bytes(codecs.BOM_UTF8 + b"\xff\xfe abc", ENCODINGS)


def test_implausible_decoding_is_rejected():
    data = b"\x81\x40" * 30  # GB18030 decodes it to 30 x U+4E02, a rare character
    assert _decodes(data, "gb18030") and not _decodes(data, "big5")
    with pytest.raises(DecodeError, match="implausible"):
        decode_bytes(data, ENCODINGS)


def test_binary_with_nul_and_control_bytes_is_rejected():
    data = b"\x00\x01\x02\x03PK\x03\x04\x00\x07"
    with pytest.raises(DecodeError):
        decode_bytes(data, ENCODINGS)


def test_ascii_goes_to_the_first_candidate_on_a_tie():
    assert decode_bytes(b"GDP 2023", ["big5", "gb18030"]) == ("GDP 2023", "big5")


def test_unknown_encoding_is_a_value_error():
    with pytest.raises(ValueError, match="no-such-codec"):
        decode_bytes(b"abc", ["no-such-codec"])


# --------------------------------------------------------------------------------------
# decode_bytes_repairing and binary signatures
# --------------------------------------------------------------------------------------

LONG = (SIMPLIFIED * 40).encode("utf-8")  # 2,880 bytes, so 1 % is 28 bytes


def test_strict_text_needs_no_repair():
    assert decode_bytes_repairing(LONG, ENCODINGS) == (LONG.decode("utf-8"), "utf-8", "", 0)


def test_a_few_invalid_bytes_are_replaced_counted_and_located():
    middle = len(SIMPLIFIED.encode("utf-8")) * 20  # between two characters
    data = LONG[:middle] + b"\xff\xfe" + LONG[middle:-1]  # and a character cut at the end
    text, encoding, repair, replaced = decode_bytes_repairing(data, ENCODINGS)
    assert encoding == "utf-8" and replaced == 4
    assert text.count("\ufffd") == 3  # 0xff, 0xfe, and the two bytes left of the last character
    assert text.replace("\ufffd", "") == LONG.decode("utf-8")[:-1]
    assert f"4 invalid bytes in 3 places (first at byte {middle})" in repair
    with pytest.raises(DecodeError):  # decode_bytes itself never replaces a byte
        decode_bytes(data, ENCODINGS)


@pytest.mark.parametrize("codec", ["gb18030", "big5"])
def test_repair_keeps_the_encoding_that_fits(codec):
    text = TRADITIONAL if codec == "big5" else SIMPLIFIED
    at = len(text.encode(codec)) * 10  # between two characters
    data = (text * 10).encode(codec) + b"\xff" + (text * 30).encode(codec)
    decoded, encoding, repair, replaced = decode_bytes_repairing(data, ENCODINGS)
    assert (encoding, replaced, decoded.replace("\ufffd", "")) == (codec, 1, text * 40)
    assert repair.startswith(f"1 invalid byte in 1 place (first at byte {at})")


def test_utf8_with_bom_and_utf16_with_bom_are_repaired_in_their_encoding():
    at = len(SIMPLIFIED.encode("utf-8")) * 5  # between two characters
    data = codecs.BOM_UTF8 + LONG[:at] + b"\x80" + LONG[at:]
    text, encoding, repair, replaced = decode_bytes_repairing(data, ENCODINGS)
    assert (encoding, replaced, text.replace("\ufffd", "")) == ("utf-8-sig", 1, LONG.decode())
    assert f"(first at byte {at + 3})" in repair  # counted in the file, BOM included
    data = codecs.BOM_UTF16_LE + (SIMPLIFIED * 40).encode("utf-16-le") + b"\x00"  # odd length
    text, encoding, _, replaced = decode_bytes_repairing(data, ENCODINGS)
    assert (encoding, replaced, text) == ("utf-16", 1, SIMPLIFIED * 40 + "\ufffd")


def test_too_many_invalid_bytes_are_not_repaired():
    step = 60  # one bad byte every 60: about 1.7 % of the bytes
    data = b"".join(LONG[i:i + step] + b"\xff" for i in range(0, len(LONG), step))
    assert (len(data) - len(LONG)) / len(data) > MAX_REPLACED_SHARE
    with pytest.raises(DecodeError, match="not repaired: .*more than .* invalid bytes"):
        decode_bytes_repairing(data, ENCODINGS)


@pytest.mark.parametrize("codec", ["gb18030", "big5"])
def test_the_wrong_encoding_is_never_repaired_into_mojibake(codec):
    # GB18030/Big5 text read as UTF-8 is mostly invalid bytes: skipped, not "repaired"
    data = ((TRADITIONAL if codec == "big5" else SIMPLIFIED) * 40).encode(codec)
    with pytest.raises(DecodeError, match="not repaired"):
        decode_bytes_repairing(data, ["utf-8"])


def test_short_files_and_latin_text_are_not_repaired():
    with pytest.raises(DecodeError, match="too short to repair"):
        decode_bytes_repairing(SIMPLIFIED.encode("utf-8") + b"\xff", ["utf-8"])
    latin1 = ("Caf\xe9 cr\xe8me, na\xefve r\xe9sum\xe9. " * 20).encode("latin-1")  # not UTF-8
    with pytest.raises(DecodeError, match="not repaired: .*more than"):
        decode_bytes_repairing(latin1, ["utf-8"])
    one_accent = ("Zone annual report. " * 50 + "Caf\xe9").encode("latin-1")  # 1 bad byte of 1,004
    with pytest.raises(DecodeError, match="not repaired: .*implausible"):
        decode_bytes_repairing(one_accent, ["utf-8"])  # no Chinese text left to vouch for it


def _minimal_pdf() -> bytes:
    """A real (tiny, valid) PDF: header, binary comment, catalog, a Flate stream, trailer."""
    import zlib

    stream = zlib.compress(b"BT /F1 12 Tf 72 712 Td (Kaifaqu) Tj ET")
    body = (
        b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"
        b"1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
        b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
        b"3 0 obj\n<< /Type /Page /Parent 2 0 R /Contents 4 0 R >>\nendobj\n"
        b"4 0 obj\n<< /Length " + str(len(stream)).encode() + b" /Filter /FlateDecode >>\nstream\n"
        + stream + b"\nendstream\nendobj\n"
    )
    return body + b"trailer\n<< /Root 1 0 R >>\nstartxref\n" + str(len(body)).encode() + b"\n%%EOF\n"


def _zip_archive() -> bytes:
    """A real ZIP (a one-entry .docx-like archive) made with zipfile."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", f"<w:document>{SIMPLIFIED}</w:document>")
    return buffer.getvalue()


def test_binary_signatures():
    assert binary_kind(_minimal_pdf()) == "a PDF document"
    assert binary_kind(_zip_archive()).startswith("a ZIP archive")
    assert binary_kind(LONG) is None and binary_kind(codecs.BOM_UTF16_LE + LONG) is None


# --------------------------------------------------------------------------------------
# Folders of .txt files
# --------------------------------------------------------------------------------------


@pytest.fixture()
def mixed_folder(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    _write(root / "b_gb18030.txt", f"{SIMPLIFIED}\r\n第二段。\r\n".encode("gb18030"))
    _write(root / "a_utf8.txt", f"{SIMPLIFIED}\n".encode("utf-8"))
    _write(root / "sub" / "deeper" / "c_big5.txt", f"{TRADITIONAL}\r第二段。\r".encode("big5"))
    _write(root / "sub" / "d_utf16le_bom.txt", codecs.BOM_UTF16_LE + SIMPLIFIED.encode("utf-16-le"))
    _write(root / "sub" / "e_utf16be.txt", f"{SIMPLIFIED}\n".encode("utf-16-be"))
    _write(root / "sub" / "f_utf8_bom.txt", codecs.BOM_UTF8 + SIMPLIFIED.encode("utf-8"))
    _write(root / "empty.txt", b"")
    _write(root / "blank.txt", " \r\n\t\u3000\n".encode("utf-8"))
    _write(root / "garbage.txt", GARBAGE)
    _write(root / ".hidden.txt", SIMPLIFIED.encode("utf-8"))
    _write(root / ".git" / "inside_hidden.txt", SIMPLIFIED.encode("utf-8"))
    _write(root / "README.md", b"# not corpus\n")
    _write(root / "notes.TXT.bak", b"not corpus\n")
    return root


def test_folder_reads_every_encoding_nested_and_sorted(mixed_folder):
    result = read_corpus(CorpusConfig(path=str(mixed_folder)))
    found = {text.source: (text.encoding, text.text) for text in result.texts}
    assert found == {
        "a_utf8.txt": ("utf-8", f"{SIMPLIFIED}\n"),
        "b_gb18030.txt": ("gb18030", f"{SIMPLIFIED}\n第二段。\n"),
        "sub/deeper/c_big5.txt": ("big5", f"{TRADITIONAL}\n第二段。\n"),
        "sub/d_utf16le_bom.txt": ("utf-16", SIMPLIFIED),
        "sub/e_utf16be.txt": ("utf-16-be", f"{SIMPLIFIED}\n"),
        "sub/f_utf8_bom.txt": ("utf-8-sig", SIMPLIFIED),
    }
    sources = [text.source for text in result.texts]
    assert sources == sorted(sources)


def test_folder_skips_empty_whitespace_and_undecodable_with_reasons(mixed_folder):
    result = read_corpus(CorpusConfig(path=str(mixed_folder)))
    reasons = {skip.source: skip.reason for skip in result.skipped}
    assert set(reasons) == {"blank.txt", "empty.txt", "garbage.txt"}
    assert "0 bytes" in reasons["empty.txt"]
    assert "whitespace" in reasons["blank.txt"]
    for encoding in ENCODINGS:
        assert encoding in reasons["garbage.txt"]


def test_hidden_and_non_txt_files_are_ignored(mixed_folder):
    result = read_corpus(CorpusConfig(path=str(mixed_folder)))
    seen = [entry.source for entry in result.texts] + [entry.source for entry in result.skipped]
    assert not any("hidden" in source or source.startswith(".") for source in seen)
    assert not any("README" in source or ".bak" in source for source in seen)


def test_sha256_is_of_the_raw_bytes(mixed_folder):
    result = read_corpus(CorpusConfig(path=str(mixed_folder)))
    for text in result.texts:
        assert text.sha256 == hashlib.sha256((mixed_folder / text.source).read_bytes()).hexdigest()


def test_order_does_not_depend_on_creation_order(tmp_path):
    names = ["z.txt", "a/z.txt", "a-b.txt", "m/n/o.txt", "B.txt", "a.txt"]
    forward, backward = tmp_path / "forward", tmp_path / "backward"
    for name in names:
        _write(forward / name, name.encode())
    for name in reversed(names):
        _write(backward / name, name.encode())
    first = [t.source for t in read_corpus(CorpusConfig(path=str(forward))).texts]
    second = [t.source for t in read_corpus(CorpusConfig(path=str(backward))).texts]
    assert first == second == sorted(names)


def test_progress_is_reported_per_file(mixed_folder):
    calls = []
    result = read_corpus(
        CorpusConfig(path=str(mixed_folder)), progress=lambda *args: calls.append(args)
    )
    total = len(result.texts) + len(result.skipped)
    assert [call[0] for call in calls] == list(range(1, total + 1))
    assert {call[1] for call in calls} == {total}
    assert calls[-1][2] == "sub/f_utf8_bom.txt"


def test_missing_path_is_a_corpus_error(tmp_path):
    missing = tmp_path / "nowhere"
    with pytest.raises(CorpusError, match="nowhere"):
        read_corpus(CorpusConfig(path=str(missing)))


def test_folder_without_txt_files_is_a_corpus_error(tmp_path):
    _write(tmp_path / "README.md", b"hello")
    _write(tmp_path / ".hidden.txt", b"hello")
    with pytest.raises(CorpusError, match="no .txt files"):
        read_corpus(CorpusConfig(path=str(tmp_path)))


def test_other_kind_of_file_is_a_corpus_error(tmp_path):
    path = _write(tmp_path / "speeches.md", SIMPLIFIED.encode())
    with pytest.raises(CorpusError, match="speeches.md"):
        read_corpus(CorpusConfig(path=str(path)))


def test_all_entries_skipped_is_a_corpus_error(tmp_path):
    _write(tmp_path / "empty.txt", b"")
    _write(tmp_path / "blank.txt", b"   \n")
    with pytest.raises(CorpusError, match="all 2 .txt files were skipped"):
        read_corpus(CorpusConfig(path=str(tmp_path)))


def test_bad_encoding_in_config_is_a_corpus_error(tmp_path):
    _write(tmp_path / "a.txt", b"abc")
    with pytest.raises(ValidationError, match="unknown encoding 'klingon'"):  # the schema says so
        CorpusConfig(path=str(tmp_path), encodings=["utf-8", "klingon"])
    with pytest.raises(CorpusError, match="klingon"):  # and ingestion, for an unvalidated config
        read_corpus(CorpusConfig.model_construct(path=str(tmp_path), encodings=["utf-8", "klingon"]))


def test_symlink_loop_and_broken_symlink_are_skipped(tmp_path):
    _write(tmp_path / "good.txt", SIMPLIFIED.encode())
    _write(tmp_path / "sub" / "inner.txt", SIMPLIFIED.encode())
    _symlink("loop.txt", tmp_path / "loop.txt")  # a link to itself
    _symlink("one.txt", tmp_path / "two.txt")
    _symlink("two.txt", tmp_path / "one.txt")
    _symlink("missing.txt", tmp_path / "broken.txt")
    _symlink("..", tmp_path / "sub" / "up")  # a folder loop
    _symlink("good.txt", tmp_path / "alias.txt")  # a working file link is read
    result = read_corpus(CorpusConfig(path=str(tmp_path)))
    assert [t.source for t in result.texts] == ["alias.txt", "good.txt", "sub/inner.txt"]
    reasons = {skip.source: skip.reason for skip in result.skipped}
    assert set(reasons) == {"broken.txt", "loop.txt", "one.txt", "two.txt", "sub/up/"}
    assert "broken symbolic link" in reasons["broken.txt"]
    for name in ("loop.txt", "one.txt", "two.txt"):
        assert "loop" in reasons[name]
    assert "not followed" in reasons["sub/up/"]


def test_unreadable_file_is_skipped(tmp_path):
    _write(tmp_path / "good.txt", SIMPLIFIED.encode())
    locked = _write(tmp_path / "locked.txt", SIMPLIFIED.encode())
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("permissions are not enforced for this user (e.g. root)")
        result = read_corpus(CorpusConfig(path=str(tmp_path)))
    finally:
        locked.chmod(0o644)
    assert [t.source for t in result.texts] == ["good.txt"]
    assert result.skipped[0].source == "locked.txt"
    assert "permission denied" in result.skipped[0].reason


def test_fifo_named_txt_is_skipped_not_read(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes on this platform")
    _write(tmp_path / "good.txt", SIMPLIFIED.encode())
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)

    def unblock() -> None:  # should ingestion ever open the pipe, let it read EOF, not hang
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            try:
                os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
                return
            except OSError:
                time.sleep(0.05)

    threading.Thread(target=unblock, daemon=True).start()
    result = read_corpus(CorpusConfig(path=str(tmp_path)))
    assert [t.source for t in result.texts] == ["good.txt"]
    assert [(s.source, s.reason) for s in result.skipped] == [("pipe.txt", "not a regular file")]


def test_file_name_that_is_not_utf8_is_skipped(tmp_path):
    _write(tmp_path / "good.txt", SIMPLIFIED.encode())
    try:
        with open(os.fsencode(tmp_path) + b"/bad\xff.txt", "wb") as handle:
            handle.write(SIMPLIFIED.encode())
    except (OSError, ValueError):
        pytest.skip("the file system does not allow non-UTF-8 file names")
    result = read_corpus(CorpusConfig(path=str(tmp_path)))
    assert [t.source for t in result.texts] == ["good.txt"]
    assert "not valid UTF-8" in result.skipped[0].reason
    result.skipped[0].source.encode("utf-8")  # the reported name is printable


# --------------------------------------------------------------------------------------
# A hostile corpus folder: every file used, repaired or skipped, and reported
# --------------------------------------------------------------------------------------

HUGE_BYTES = 50 * 2**20


def _seed_paragraphs(name: str) -> list[str]:
    return [line for line in (SEEDS / name).read_text(encoding="utf-8").splitlines() if len(line) > 200]


@pytest.fixture(scope="module")
def hostile_folder(tmp_path_factory) -> tuple[Path, set[str], dict[str, str]]:
    """A corpus folder with good files in four encodings and every kind of bad file.

    Returns the folder, the entries that must be read, and the entries that must be
    skipped with a fragment of their reason. Each good file holds other seed paragraphs,
    so none is a near-duplicate of another.
    """
    root = tmp_path_factory.mktemp("hostile")
    paragraphs = _seed_paragraphs("003_79fffe570bc6bca6.txt")
    to_traditional = opencc.OpenCC("s2tw").convert
    big5 = [to_traditional(p) for p in paragraphs[8:16] if _encodable(to_traditional(p), "big5")][:2]
    assert len(big5) == 2
    good = {
        "gb18030_crlf.txt": ("\r\n".join(paragraphs[0:2]) + "\r\n").encode("gb18030"),
        "big5_cr.txt": ("\r".join(big5) + "\r").encode("big5"),
        "utf16_bom_crlf.txt": ("\r\n".join(paragraphs[2:4])).encode("utf-16"),  # BOM + native order
        "utf8_bom.txt": codecs.BOM_UTF8 + "\n".join(paragraphs[4:6]).encode("utf-8"),
        "folder.txt/inside.txt": "\n".join(paragraphs[16:18]).encode("utf-8"),  # a folder named .txt
    }
    for name, data in good.items():
        _write(root / name, data)
    # a realistic 50 MB file on one line: a real seed paragraph repeated, no line end
    paragraph = max((SEEDS / "004_22f2e348fe793403.txt").read_text(encoding="utf-8").splitlines(), key=len)
    unit = paragraph.encode("utf-8")
    _write(root / "huge_one_line.txt", unit * (HUGE_BYTES // len(unit) + 1))
    # good UTF-8 text with three invalid bytes in the middle (a scraping accident)
    text = "\n".join(paragraphs[6:8]).encode("utf-8")
    middle = text.index("。".encode()) + 3
    _write(root / "invalid_middle.txt", text[:middle] + b"\xff\xfe\x80" + text[middle:])
    skipped = {
        "empty.txt": "empty file (0 bytes)",
        "report.txt": "binary file, not text: a PDF document",
        "archive.txt": "binary file, not text: a ZIP archive",
        "loop.txt": "symbolic link loop",
        "pipe.txt": "not a regular file",
    }
    _write(root / "empty.txt", b"")
    _write(root / "report.txt", _minimal_pdf())
    _write(root / "archive.txt", _zip_archive())
    _symlink("loop.txt", root / "loop.txt")
    os.mkfifo(root / "pipe.txt")  # a named pipe: opening it would block; it must not be read
    locked = _write(root / "locked.txt", "\n".join(paragraphs[18:20]).encode("utf-8"))
    locked.chmod(0)
    read = set(good) | {"huge_one_line.txt", "invalid_middle.txt"}
    if os.access(locked, os.R_OK):  # root: permissions are not enforced, so it is a good file
        read.add("locked.txt")
    else:
        skipped["locked.txt"] = "unreadable (permission denied)"
    yield root, read, skipped
    locked.chmod(0o644)


def _encodable(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def test_hostile_folder_every_file_is_read_repaired_or_skipped_with_its_reason(hostile_folder):
    root, read, skipped = hostile_folder
    if "locked.txt" in read:
        # honest about what this run could check: the chmod 000 sub-check needs a non-root user
        # (test_unreadable_file_is_skipped); the FIFO stands in as the file that cannot be read
        assert os.geteuid() == 0
    result = read_corpus(CorpusConfig(path=str(root)))
    assert {t.source for t in result.texts} == read
    reasons = {s.source: s.reason for s in result.skipped}
    assert set(reasons) == set(skipped)
    for name, fragment in skipped.items():
        assert fragment in reasons[name], (name, reasons[name])
    assert len(result.texts) + len(result.skipped) == len(read) + len(skipped)  # each exactly once
    texts = {t.source: t for t in result.texts}
    assert {name: texts[name].encoding for name in ("gb18030_crlf.txt", "big5_cr.txt", "utf16_bom_crlf.txt",
                                                    "utf8_bom.txt", "huge_one_line.txt")} == {
        "gb18030_crlf.txt": "gb18030", "big5_cr.txt": "big5", "utf16_bom_crlf.txt": "utf-16",
        "utf8_bom.txt": "utf-8-sig", "huge_one_line.txt": "utf-8"}
    assert not any("\r" in t.text or "\ufeff" in t.text for t in result.texts)
    assert "\n" not in texts["huge_one_line.txt"].text and len(texts["huge_one_line.txt"].text) > 17_000_000
    # the one repair, and only it, is recorded with what was replaced
    assert [(t.source, t.bytes_replaced) for t in result.repaired] == [("invalid_middle.txt", 3)]
    assert "3 invalid bytes in 3 places" in texts["invalid_middle.txt"].repair
    assert texts["invalid_middle.txt"].text.count("\ufffd") == 3
    assert all(t.repair == "" and "\ufffd" not in t.text for t in result.texts if t.source != "invalid_middle.txt")


def test_hostile_folder_clean_run_reports_every_skip_and_repair(hostile_folder, tmp_path):
    # ingest, clean and segment (the `clean` command) through the public API, 50 MB line included
    import policytopics

    root, read, skipped = hostile_folder
    started = time.perf_counter()
    result = policytopics.clean_corpus(REPO_ROOT / "configs" / "default.yaml", [
        f"corpus.path={root}", f"output.results_dir={tmp_path}", f"cache.dir={tmp_path / 'cache'}"])
    seconds = time.perf_counter() - started
    report = json.loads((result.run_dir / "cleaning_report.json").read_text(encoding="utf-8"))
    assert set(report["files"]) == read
    assert {entry["source"] for entry in report["skipped"]} == set(skipped)
    for entry in report["skipped"]:
        assert skipped[entry["source"]] in entry["reason"]
    assert set(report["files"]).isdisjoint(entry["source"] for entry in report["skipped"])
    (repaired,) = report["repaired"]
    assert repaired["source"] == "invalid_middle.txt" and repaired["bytes_replaced"] == 3
    assert "replaced by U+FFFD" in repaired["reason"]
    # cleaning removed the three replacement characters (and counted them)
    assert report["files"]["invalid_middle.txt"]["removed"]["drop_mojibake"] >= 3
    # every file that was read became at least one document with units; nothing vanished
    assert {doc.source for doc in result.documents} == read
    assert not any(doc.duplicate_of for doc in result.documents)
    source_of = {doc.doc_id: doc.source for doc in result.documents}
    units_per_source: dict[str, int] = {}
    for unit in result.units:
        units_per_source[source_of[unit.doc_id]] = units_per_source.get(source_of[unit.doc_id], 0) + 1
    assert set(units_per_source) == read, sorted(read - set(units_per_source))
    assert all("\ufffd" not in unit.text for unit in result.units)
    huge = [unit for unit in result.units if source_of[unit.doc_id] == "huge_one_line.txt"]
    assert len(huge) > 1000 and max(unit.n_chars for unit in huge) < 1500  # one line, cut into units
    print(f"hostile clean run: {seconds:.1f} s")


# --------------------------------------------------------------------------------------
# Manifests
# --------------------------------------------------------------------------------------


def _manifest(root: Path, data: object) -> Path:
    text = data if isinstance(data, str) else yaml.safe_dump(data, allow_unicode=True)
    return _write(root / "corpus.yaml", text.encode("utf-8"))


def test_manifest_metadata_is_merged(tmp_path):
    _write(tmp_path / "a.txt", SIMPLIFIED.encode())
    _write(tmp_path / "sub" / "b.txt", SIMPLIFIED.encode())
    _write(tmp_path / "c.txt", SIMPLIFIED.encode())
    _manifest(
        tmp_path,
        "description: test corpus\n"
        "source: made in a test\n"
        "files:\n"
        "  a.txt:\n"
        "    description: first\n"
        "    metadata: {genre: 工作总结, published: 2023-04-18, pinyin: true, n: 3, none: null}\n"
        "  sub/b.txt:\n"
        "    metadata: {genre: 计划总结}\n",
    )
    result = read_corpus(CorpusConfig(path=str(tmp_path)))
    metadata = {text.source: text.metadata for text in result.texts}
    assert metadata == {
        "a.txt": {
            "genre": "工作总结", "published": "2023-04-18", "pinyin": "true", "n": "3", "none": ""
        },
        "sub/b.txt": {"genre": "计划总结"},
        "c.txt": {},
    }


def test_manifest_is_ignored_when_switched_off(tmp_path):
    _write(tmp_path / "a.txt", SIMPLIFIED.encode())
    _manifest(tmp_path, {"files": {"missing.txt": {}}})
    result = read_corpus(CorpusConfig(path=str(tmp_path), manifest=None))
    assert [t.metadata for t in result.texts] == [{}]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ({"files": {"a.txt": {"metdata": {"genre": "x"}}}}, r"files\['a.txt'\]\.metdata"),
        ({"descripton": "typo"}, "descripton"),
        ({"files": {"a.txt": {"metadata": {"zones": ["a", "b"]}}}}, "zones"),
        ({"files": ["a.txt"]}, "files"),
        ("files: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
    ],
)
def test_malformed_manifest_is_a_corpus_error_naming_file_and_key(tmp_path, content, expected):
    _write(tmp_path / "a.txt", SIMPLIFIED.encode())
    _manifest(tmp_path, content)
    with pytest.raises(CorpusError, match=expected) as caught:
        read_corpus(CorpusConfig(path=str(tmp_path)))
    assert "corpus.yaml" in str(caught.value)
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize("name", ["missing.txt", "README.md", "../a.txt", ".hidden.txt"])
def test_manifest_naming_a_file_not_in_the_corpus_is_a_corpus_error(tmp_path, name):
    _write(tmp_path / "a.txt", SIMPLIFIED.encode())
    _write(tmp_path / "README.md", b"readme")
    _write(tmp_path / ".hidden.txt", SIMPLIFIED.encode())
    _manifest(tmp_path, {"files": {"a.txt": {}, name: {"metadata": {"k": "v"}}}})
    with pytest.raises(CorpusError, match=re.escape(name)):
        read_corpus(CorpusConfig(path=str(tmp_path)))


def test_manifest_is_loaded_safely(tmp_path):
    _write(tmp_path / "a.txt", SIMPLIFIED.encode())
    _manifest(tmp_path, "description: !!python/object/apply:os.system ['echo unsafe']\n")
    with pytest.raises(CorpusError, match="not valid YAML"):
        read_corpus(CorpusConfig(path=str(tmp_path)))


# --------------------------------------------------------------------------------------
# CSV and JSONL tables
# --------------------------------------------------------------------------------------

ROWS = [
    {"id": "s1", "year": "2021", "zone": "燕郊开发区", "speaker": "主任", "text": "同志们:\r\n今天开会。"},
    {"id": "s2", "year": "2022", "zone": "", "speaker": "书记", "text": SIMPLIFIED},
    {"id": "s3", "year": "2023", "zone": "亦庄", "speaker": "区长", "text": "  "},
    {"id": "s4", "year": "2024", "zone": "麓谷", "speaker": "", "text": "第四篇。"},
]


def _csv_bytes(rows, encoding="utf-8", columns=("id", "year", "zone", "speaker", "text")) -> bytes:
    def quote(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'

    lines = [",".join(columns)]
    lines += [",".join(quote(row.get(column, "")) for column in columns) for row in rows]
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def test_csv_rows_with_metadata(tmp_path):
    path = _write(tmp_path / "speeches.csv", _csv_bytes(ROWS))
    result = read_corpus(CorpusConfig(path=str(path)))
    assert [t.source for t in result.texts] == [f"speeches.csv#{n}" for n in (1, 2, 4)]
    first = result.texts[0]
    assert first.text == "同志们:\n今天开会。"
    assert first.encoding == "table"
    assert first.metadata == {"id": "s1", "year": "2021", "zone": "燕郊开发区", "speaker": "主任"}
    assert result.texts[1].metadata["zone"] == ""  # missing value
    assert {t.sha256 for t in result.texts} == {hashlib.sha256(path.read_bytes()).hexdigest()}
    assert [s.source for s in result.skipped] == ["speeches.csv#3"]
    assert "empty text" in result.skipped[0].reason


def test_csv_in_gb18030_with_id_column_and_selected_metadata(tmp_path):
    path = _write(tmp_path / "speeches.csv", _csv_bytes(ROWS, encoding="gb18030"))
    config = CorpusConfig(path=str(path), id_column="id", metadata_columns=["year", "speaker"])
    result = read_corpus(config)
    assert [t.source for t in result.texts] == [f"speeches.csv#s{n}" for n in (1, 2, 4)]
    assert result.texts[1].text == SIMPLIFIED
    assert [t.metadata for t in result.texts] == [
        {"year": "2021", "speaker": "主任"},
        {"year": "2022", "speaker": "书记"},
        {"year": "2024", "speaker": ""},
    ]


def test_csv_without_text_column_is_a_corpus_error(tmp_path):
    path = _write(tmp_path / "speeches.csv", _csv_bytes(ROWS, columns=("id", "year", "body")))
    with pytest.raises(CorpusError, match="speeches.csv.*'text'"):
        read_corpus(CorpusConfig(path=str(path)))


def test_csv_with_unknown_metadata_or_id_column_is_a_corpus_error(tmp_path):
    path = _write(tmp_path / "speeches.csv", _csv_bytes(ROWS))
    with pytest.raises(CorpusError, match="region"):
        read_corpus(CorpusConfig(path=str(path), metadata_columns=["year", "region"]))
    with pytest.raises(CorpusError, match="doc_no"):
        read_corpus(CorpusConfig(path=str(path), id_column="doc_no"))


def test_csv_with_duplicate_ids_is_a_corpus_error(tmp_path):
    rows = [dict(ROWS[0]), dict(ROWS[1], id="s1")]
    path = _write(tmp_path / "speeches.csv", _csv_bytes(rows))
    with pytest.raises(CorpusError, match="rows 1 and 2"):
        read_corpus(CorpusConfig(path=str(path), id_column="id"))


def _jsonl_bytes(records) -> bytes:
    return "".join(json.dumps(record, ensure_ascii=False) + "\n" for record in records).encode()


def test_jsonl_rows_with_metadata(tmp_path):
    records = [
        {"id": "a", "year": 2021, "zone": "燕郊", "speaker": "主任", "text": "第一篇。"},
        {"id": "b", "year": 2022, "zone": None, "speaker": "书记", "text": "第二篇。"},
        {"id": "c", "year": 2023, "text": "第三篇。"},  # zone and speaker missing
    ]
    data = _jsonl_bytes(records[:2]) + b"\n{not json}\n" + _jsonl_bytes(records[2:])
    path = _write(tmp_path / "speeches.jsonl", data)
    calls = []
    result = read_corpus(CorpusConfig(path=str(path)), progress=lambda *a: calls.append(a))
    assert [t.source for t in result.texts] == [f"speeches.jsonl#{n}" for n in (1, 2, 4)]
    assert [t.metadata for t in result.texts] == [
        {"id": "a", "year": "2021", "zone": "燕郊", "speaker": "主任"},
        {"id": "b", "year": "2022", "zone": "", "speaker": "书记"},
        {"id": "c", "year": "2023", "zone": "", "speaker": ""},
    ]
    assert result.skipped[0].source == "speeches.jsonl#3"
    assert "not valid JSON" in result.skipped[0].reason
    assert [call[:2] for call in calls] == [(1, 4), (2, 4), (3, 4), (4, 4)]


def test_jsonl_id_column_and_missing_text_column(tmp_path):
    records = [{"id": "x1", "text": "甲。"}, {"id": "x2", "text": "乙。"}]
    path = _write(tmp_path / "s.jsonl", _jsonl_bytes(records))
    result = read_corpus(CorpusConfig(path=str(path), id_column="id", metadata_columns=[]))
    assert [(t.source, t.metadata) for t in result.texts] == [
        ("s.jsonl#x1", {}),
        ("s.jsonl#x2", {}),
    ]
    with pytest.raises(CorpusError, match="s.jsonl.*'body'"):
        read_corpus(CorpusConfig(path=str(path), text_column="body"))


def test_empty_or_unusable_tables_are_corpus_errors(tmp_path):
    for name, data, expected in [
        ("empty.csv", b"", "no header row"),
        ("header.csv", b"id,text\r\n", "no rows"),
        ("empty.jsonl", b"\n\n", "no rows"),
        ("broken.jsonl", b"{oops\n[1, 2]\n", "no valid rows"),
        ("blank.csv", b"id,text\n1,\n2,  \n", "all 2 rows were skipped"),
    ]:
        path = _write(tmp_path / name, data)
        with pytest.raises(CorpusError, match=expected) as caught:
            read_corpus(CorpusConfig(path=str(path)))
        assert name in str(caught.value)


# --------------------------------------------------------------------------------------
# The real corpora
# --------------------------------------------------------------------------------------


def test_seed_corpus():
    result = read_corpus(CorpusConfig(path=str(SEEDS)))
    names = sorted(path.name for path in SEEDS.glob("*.txt"))
    assert len(names) == 5
    assert [t.source for t in result.texts] == names
    assert result.skipped == []
    assert {t.encoding for t in result.texts} == {"utf-8"}
    for text in result.texts:
        raw = (SEEDS / text.source).read_bytes()
        assert text.sha256 == hashlib.sha256(raw).hexdigest()
        assert text.text == raw.decode("utf-8")
        expected_keys = {"site_kind", "genre", "published", "script", "pinyin_annotated"}
        assert expected_keys <= set(text.metadata)
    genres = {t.source[:3]: t.metadata["genre"] for t in result.texts}
    assert genres == {
        "000": "年终工作会议讲话",
        "001": "工作总结",
        "002": "半年工作会议讲话",
        "003": "计划总结",
        "004": "半年工作会议讲话",
    }


def test_seed_manifest_states_only_what_the_files_show():
    manifest = load_manifest(SEEDS / "corpus.yaml")
    assert manifest.description and manifest.source
    assert sorted(manifest.files) == sorted(path.name for path in SEEDS.glob("*.txt"))
    to_simplified = opencc.OpenCC("t2s").convert
    for name, entry in manifest.files.items():
        text = (SEEDS / name).read_text(encoding="utf-8")
        metadata = entry.metadata
        assert entry.description
        if metadata["published"]:
            assert metadata["published"] in text
        is_traditional = to_simplified(text) != text
        assert metadata["script"] == ("traditional" if is_traditional else "simplified")
        has_pinyin = len(PINYIN.findall(text)) > 100
        assert metadata["pinyin_annotated"] == ("true" if has_pinyin else "false")
        if metadata["site"]:
            assert to_simplified(metadata["site"]) in to_simplified(PINYIN.sub(
                lambda m: m.group()[0], text))


def test_city_reports_corpus():
    if not CITY_REPORTS.is_dir():
        pytest.skip(f"{CITY_REPORTS} is not available on this machine")
    result = read_corpus(CorpusConfig(path=str(CITY_REPORTS)))
    assert len(result.texts) == 143
    assert result.skipped == []
    assert all(t.source.endswith(".txt") and "/" not in t.source for t in result.texts)
    assert {t.encoding for t in result.texts} == {"utf-8"}
    assert (CITY_REPORTS / "README.md").is_file() and (CITY_REPORTS / "LICENSE").is_file()
    assert "池州.txt" in {t.source for t in result.texts}
