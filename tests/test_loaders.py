"""Loaders: encodings, formats, and the files that must be skipped with a reason."""

from __future__ import annotations

import pytest

from ingest.loaders import SkipFile, decode_bytes, load_document

from .conftest import ARTICLE

TEXT = ARTICLE.read_text(encoding="utf-8")[:600]
MB = 10**6


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk", "gb18030", "big5", "utf-16"])
def test_chinese_encodings_are_detected(encoding):
    text = TEXT if encoding != "big5" else "黃仁勳做出了一個當時看來堪稱燒錢又費解的決定，推出統一計算設備架構。這是一個長達數年的豪賭。"
    decoded, _ = decode_bytes(text.encode(encoding))
    assert decoded == text


def test_short_gbk_text():
    decoded, enc = decode_bytes("华为的昇腾芯片。".encode("gbk"))
    assert decoded == "华为的昇腾芯片。"
    assert enc == "gb18030"


def test_binary_junk_is_refused():
    with pytest.raises(SkipFile, match="binary"):
        decode_bytes(bytes(range(256)) * 20)


def test_empty_and_whitespace_files_are_skipped(tmp_path):
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.txt").write_text(" \n\n \t", encoding="utf-8")
    with pytest.raises(SkipFile, match="empty"):
        load_document(tmp_path / "empty.txt", tmp_path, MB)
    with pytest.raises(SkipFile, match="empty"):
        load_document(tmp_path / "blank.txt", tmp_path, MB)


def test_too_large_file_is_skipped(tmp_path):
    (tmp_path / "big.txt").write_text("字" * 1000, encoding="utf-8")
    with pytest.raises(SkipFile, match="max_file_mb"):
        load_document(tmp_path / "big.txt", tmp_path, 100)


def test_markdown_and_crlf(tmp_path):
    (tmp_path / "a.md").write_bytes("# 标题\r\n正文。\r\n".encode("utf-8"))
    doc = load_document(tmp_path / "a.md", tmp_path, MB)
    assert doc.text == "标题\n正文。"  # the "#" marks a section, it is not text
    assert doc.sections == [(0, "标题")]
    assert doc.source == "a.md"


def test_html_drops_scripts_and_keeps_text(tmp_path):
    html = "<html><head><style>p{}</style><script>alert(1)</script></head><body><p>华为的CANN。</p><p>第二段。</p></body></html>"
    (tmp_path / "a.html").write_text(html, encoding="utf-8")
    doc = load_document(tmp_path / "a.html", tmp_path, MB)
    assert doc.text == "华为的CANN。\n第二段。"


def test_docx(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("昇腾910B可以对标A100。")
    d.add_paragraph("第二段。")
    d.save(tmp_path / "a.docx")
    assert load_document(tmp_path / "a.docx", tmp_path, MB).text == "昇腾910B可以对标A100。\n第二段。"


def test_pdf_with_text(tmp_path):
    # A minimal one-page PDF with an ASCII text object (no CJK font is needed to test the path).
    pdf = _minimal_pdf("Nvidia launched CUDA in 2006.")
    (tmp_path / "a.pdf").write_bytes(pdf)
    assert "CUDA in 2006" in load_document(tmp_path / "a.pdf", tmp_path, MB).text


def test_corrupt_pdf_is_skipped(tmp_path):
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    with pytest.raises(SkipFile):
        load_document(tmp_path / "bad.pdf", tmp_path, MB)


def _minimal_pdf(text: str) -> bytes:
    content = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = b"%PDF-1.4\n"
    offsets = []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return out
