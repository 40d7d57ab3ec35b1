"""Make a Traditional-Chinese twin of an eval dataset (corpus converted, questions kept Simplified).

    .venv/bin/python scripts/make_traditional_corpus.py \\
        --src eval/datasets/debian_faq --dst eval/datasets/debian_faq_hant --config s2twp

The twin measures cross-script retrieval: Simplified questions over Traditional documents.
From SRC it writes to DST:

* ``corpus/``: every file of ``SRC/corpus`` under the same name, converted with OpenCC
  (``--config``, default ``s2twp``: Taiwan Traditional with Taiwan phrasing, 软件 -> 軟體).
  ``.html/.htm/.txt/.md`` are converted as one UTF-8 string (markup is ASCII and survives;
  a ``lang="zh-CN"``/``zh-Hans`` attribute, if any, becomes ``zh-TW``; line endings are kept).
  ``.docx``: the text of every run is converted in place (body paragraphs, hyperlinks, table
  cells, nested tables: every ``w:t`` of the body), so styles and structure stay; the core
  ``title`` is converted too. Any other file is copied unchanged, with a warning.
* ``gold.jsonl``: the questions (and answers) unchanged, in Simplified script; each ``evidence``
  string converted with the same config, so it stays verbatim in the new corpus; ``id``s get a
  ``t`` prefix (df001 -> tdf001).
* ``SOURCE.md``: where the twin comes from and how to regenerate it.

The output is deterministic: same input and OpenCC version, same bytes (the .docx zip entries
get a fixed timestamp; python-docx would otherwise stamp the time of saving).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import re
import sys
import zipfile
from pathlib import Path

import opencc

ROOT = Path(__file__).resolve().parent.parent
TEXT_SUFFIXES = {".html", ".htm", ".txt", ".md"}
FIXED_TIME = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)  # for docx metadata python-docx would stamp
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can carry
_LANG_ATTR = re.compile(r"""(\b(?:xml:)?lang\s*=\s*["'])zh[-_](?:cn|hans(?:[-_]cn)?)(["'])""", re.IGNORECASE)


def warn(msg: str) -> None:
    print(f"warning: {msg}", file=sys.stderr)


def convert_text_file(src: Path, dst: Path, cc: opencc.OpenCC) -> None:
    """Convert a UTF-8 text/HTML file as one string; bytes are decoded as-is so CRLF survives."""
    text = cc.convert(src.read_bytes().decode("utf-8"))
    if src.suffix.lower() in {".html", ".htm"}:
        text = _LANG_ATTR.sub(r"\1zh-TW\2", text)
    dst.write_bytes(text.encode("utf-8"))


def convert_docx(src: Path, dst: Path, cc: opencc.OpenCC) -> None:
    """Convert the text of every run of a .docx in place and save it with fixed zip timestamps."""
    import docx
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.oxml.ns import qn

    document = docx.Document(str(src))
    body = document.element.body
    # Runs are converted one by one (formatting stays per run); warn where a phrase would
    # convert differently across a run boundary than within the paragraph as a whole.
    def para_texts() -> list[str]:
        return ["".join(t.text or "" for t in p.iter(qn("w:t"))) for p in body.iter(qn("w:p"))]

    before = para_texts()
    for t in body.iter(qn("w:t")):  # each text node once (nested paragraphs included)
        if t.text:
            t.text = cc.convert(t.text)
    for old, new in zip(before, para_texts()):
        if cc.convert(old) != new:
            warn(f"{src.name}: a paragraph converts differently run by run: {old[:40]!r}")
    had_core = any(rel.reltype == RT.CORE_PROPERTIES for rel in document.part.package.rels.values())
    core = document.core_properties  # python-docx creates it, stamped with now(), if missing
    if core.title:
        core.title = cc.convert(core.title)
    if not had_core:
        core.created = core.modified = FIXED_TIME
    buf = io.BytesIO()
    document.save(buf)
    # python-docx writes each zip entry with the current time; rewrite them with a fixed one.
    with zipfile.ZipFile(buf) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            fixed = zipfile.ZipInfo(info.filename, date_time=ZIP_TIME)
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            zout.writestr(fixed, zin.read(info.filename))


def convert_gold(src: Path, dst: Path, cc: opencc.OpenCC) -> int:
    """Copy gold.jsonl: questions/answers as they are, evidence converted, ids prefixed "t"."""
    out = []
    for line in src.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        if "id" in row:
            row["id"] = f"t{row['id']}"
        if row.get("evidence"):
            row["evidence"] = [cc.convert(ev) for ev in row["evidence"]]
        out.append(json.dumps(row, ensure_ascii=False))
    dst.write_text("\n".join(out) + "\n", encoding="utf-8")
    return len(out)


def source_md(src: Path, dst: Path, config: str) -> str:
    """Text of DST/SOURCE.md (no dates, so reruns give the same file)."""
    try:
        rel_src, rel_dst = src.resolve().relative_to(ROOT), dst.resolve().relative_to(ROOT)
    except ValueError:
        rel_src, rel_dst = src.resolve(), dst.resolve()
    up = Path("..") / src.resolve().name if src.resolve().parent == dst.resolve().parent else rel_src
    version = getattr(opencc, "__version__", "unknown version")
    return f"""# {dst.resolve().name}: Traditional-Chinese twin of `{src.resolve().name}` (machine conversion)

Derived from [`{up}`]({up}/SOURCE.md): see its `SOURCE.md` for the origin of the documents and
their copyright and licence, which apply to this derived copy unchanged.

**This is a machine conversion, not an official Traditional-Chinese edition.** Every file of
`{up}/corpus/` was converted with OpenCC (Python package `opencc` {version}, config `{config}`:
Taiwan Traditional with Taiwan phrasing, e.g. 软件 -> 軟體) by
`scripts/make_traditional_corpus.py`; file names are kept. HTML and text files are converted as
whole strings (markup and other ASCII text unchanged); in the .docx files the text of each run is
converted and styles are kept. Conversion errors that OpenCC makes are left as they are.

Purpose: to measure cross-script retrieval, i.e. **Simplified-Chinese questions over
Traditional-Chinese documents**. So `gold.jsonl` keeps the questions (and the answers) of
`{up}/gold.jsonl` in Simplified script; only each `evidence` string is converted with the same
config, so that it is verbatim in this corpus; ids carry a `t` prefix (df001 -> tdf001).

Regenerate (from the repository root; the output is deterministic):

    .venv/bin/python scripts/make_traditional_corpus.py --src {rel_src} --dst {rel_dst} --config {config}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", type=Path, default=Path("eval/datasets/debian_faq"), help="source dataset folder")
    parser.add_argument("--dst", type=Path, default=Path("eval/datasets/debian_faq_hant"), help="output dataset folder")
    parser.add_argument("--config", default="s2twp", help="OpenCC config (default: s2twp)")
    args = parser.parse_args(argv)
    src, dst = args.src, args.dst
    if src.resolve() == dst.resolve():
        parser.error("--dst must differ from --src")
    if not (src / "corpus").is_dir() or not (src / "gold.jsonl").is_file():
        parser.error(f"{src} needs corpus/ and gold.jsonl")
    cc = opencc.OpenCC(args.config)

    (dst / "corpus").mkdir(parents=True, exist_ok=True)
    names = set()
    for path in sorted(p for p in (src / "corpus").rglob("*") if p.is_file()):
        rel = path.relative_to(src / "corpus")
        names.add(rel)
        out = dst / "corpus" / rel
        out.parent.mkdir(parents=True, exist_ok=True)
        suffix = path.suffix.lower()
        if suffix in TEXT_SUFFIXES:
            convert_text_file(path, out, cc)
        elif suffix == ".docx":
            convert_docx(path, out, cc)
        else:
            warn(f"{rel}: no converter for {suffix or 'files without a suffix'}; copied unchanged")
            out.write_bytes(path.read_bytes())
        print(f"corpus/{rel}: {out.stat().st_size} bytes")
    for extra in sorted(p for p in (dst / "corpus").rglob("*") if p.is_file()):
        if extra.relative_to(dst / "corpus") not in names:
            warn(f"{extra} is not in {src / 'corpus'} (left in place; delete it if stale)")

    n = convert_gold(src / "gold.jsonl", dst / "gold.jsonl", cc)
    print(f"gold.jsonl: {n} questions")
    (dst / "SOURCE.md").write_text(source_md(src, dst, args.config), encoding="utf-8")
    print("SOURCE.md written")
    return 0


if __name__ == "__main__":
    sys.exit(main())
