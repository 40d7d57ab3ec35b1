"""Structured documents end to end: section paths and pages survive ingestion into Chroma,
reach passages, citations, the CLI, ``--json`` and the UI cards; re-extraction follows the
loader version; the ingestion summary says what was read from each file."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest

from app import Assistant
from app.config import load_config
from app.ui_html import render_card
from ingest import ingest

from .conftest import ROOT, write_config

DATA = ROOT / "tests" / "data"
GUIDE = ROOT / "eval" / "datasets" / "maint_guide" / "corpus" / "maint-guide.zh-cn.pdf"


@pytest.fixture(scope="module")
def structured_project(tmp_path_factory):
    """A project with an HTML chapter and a PDF, ingested once."""
    folder = tmp_path_factory.mktemp("structured")
    (folder / "corpus").mkdir()
    shutil.copy(DATA / "manual_chapter.html", folder / "corpus")
    shutil.copy(GUIDE, folder / "corpus")
    path = write_config(folder)
    report = ingest(load_config(path), progress=False)
    return path, report


def test_summary_lists_what_was_read_per_file(structured_project):
    _, report = structured_project
    table = "\n".join(report.file_table())
    assert "manual_chapter.html" in table and "inscriptis" in table
    assert "maint-guide.zh-cn.pdf" in table and "pdfplumber" in table
    by_source = {src: st for src, st, _ in report.documents}
    assert by_source["maint-guide.zh-cn.pdf"].pages == 22
    assert by_source["manual_chapter.html"].tables == 1
    assert by_source["manual_chapter.html"].boilerplate_chars > 0
    assert "dropped chars" in report.summary()


def test_section_and_page_reach_passages_and_citations(structured_project):
    path, _ = structured_project
    assistant = Assistant.from_config(path)
    answer = assistant.ask("用哪个软件包可以强制使用严格的密码规则？")
    assert answer.found, answer.text
    cited = answer.citations[0]
    assert cited.source == "manual_chapter.html"
    assert cited.section == "第 4 章 认证和访问控制 › 4.5. PAM 和 NSS › 4.5.4. 严格的密码规则"
    assert cited.page is None
    assert "libpam-cracklib" in answer.text
    pdf = assistant.retrieve("怎么检查一个程序是否已经被别人打包进了 Debian？", sources=["maint-guide.zh-cn.pdf"])
    top = pdf[0]
    assert top.page is not None and 7 <= top.page <= 22
    assert top.section and top.section.startswith("Chapter 2 第一步")
    assert f"(p. {top.page})" in top.location
    as_json = answer.to_dict()
    assert as_json["citations"][0]["section"] == cited.section and "page" in as_json["citations"][0]


def test_headings_are_never_quoted(structured_project):
    path, _ = structured_project
    answer = Assistant.from_config(path).ask("挑一个你喜欢的程序")
    assert not any(line.strip() == "2.2 挑一个你喜欢的程序" for line in answer.text.split("[")), answer.text


def test_cli_and_ui_show_the_section(structured_project):
    path, _ = structured_project
    out = subprocess.run([sys.executable, "-m", "app", "--config", str(path), "ask", "用哪个软件包可以强制使用严格的密码规则？"],
                         capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    assert "§ 第 4 章 认证和访问控制 › 4.5. PAM 和 NSS › 4.5.4. 严格的密码规则" in out.stdout
    js = subprocess.run([sys.executable, "-m", "app", "--config", str(path), "ask", "--json", "用哪个软件包可以强制使用严格的密码规则？"],
                        capture_output=True, text=True, timeout=120, cwd=ROOT)
    doc = json.loads(js.stdout)
    assert doc["citations"][0]["section"].endswith("4.5.4. 严格的密码规则")
    answer = Assistant.from_config(path).ask("用哪个软件包可以强制使用严格的密码规则？")
    card = render_card(answer.citations[0], 1)
    assert 'class="rag-section"' in card and "4.5.4. 严格的密码规则" in card


def test_changed_loader_version_re_extracts(project, monkeypatch):
    """The loader version is part of each file's fingerprint: a new extractor re-reads files
    that did not change, an unchanged one reuses its cached extraction."""
    import ingest.loaders as loaders

    shutil.copy(DATA / "manual_chapter.html", project / "corpus")
    cfg = load_config(write_config(project))
    first = ingest(cfg, progress=False)
    assert not first.documents[0][1].cached
    again = ingest(cfg, progress=False)
    assert again.documents[0][1].cached and "(cached)" in again.summary()
    assert again.chunks_added == 0
    monkeypatch.setattr(loaders, "LOADER_VERSION", loaders.LOADER_VERSION + "-next")
    bumped = ingest(cfg, progress=False)
    assert not bumped.documents[0][1].cached
    assert bumped.chunks_added == 0  # same text out: nothing to embed again
    cache = list((cfg.data_dir / "extracted").glob("*.json"))
    assert len(cache) == 1 and cache[0].stem.endswith("-next")  # the old version's entry is pruned
