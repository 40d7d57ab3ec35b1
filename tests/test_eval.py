"""The eval tool: metrics, dataset validation, the gold set itself, and small end-to-end runs."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import eval as ev  # noqa: F401  (imports app first: offline environment)
from app.text import normalize
from eval.cli import main
from eval.compare import compare
from eval.dataset import DatasetError, load_dataset
from eval.floors import FloorsError, check_floors, load_floors, measured, split_key
from eval.metrics import (
    Row,
    aggregate,
    answer_correct,
    contains_any,
    citation_precision,
    evidence_recall,
    hit_rank,
    percentile,
    reciprocal_rank,
    score_question,
    strip_markers,
)

ROOT = Path(__file__).resolve().parent.parent
GOLD = ROOT / "eval" / "datasets" / "article_gold.jsonl"
ARTICLE = ROOT / "corpus" / "ai_compute_war.txt"
#: zh fact, zh list, en fact, en list, zh unanswerable, en unanswerable.
SMALL_IDS = ("q001", "q051", "q080", "q090", "q103", "q118")


def gold_rows() -> list[dict]:
    return [json.loads(line) for line in GOLD.read_text(encoding="utf-8").splitlines() if line.strip()]


def write_jsonl(path: Path, lines: list) -> Path:
    path.write_text("\n".join(x if isinstance(x, str) else json.dumps(x, ensure_ascii=False) for x in lines) + "\n",
                    encoding="utf-8")
    return path


# -- metrics ------------------------------------------------------------------------------

def test_markers_are_stripped_so_their_digits_never_count():
    assert strip_markers("答案是A800[1]和H800[2]。") == "答案是A800和H800。"
    assert strip_markers("see [1, 2] and ［３］") == "see  and "
    # "[1]" alone must not make the answer "1" correct.
    assert not answer_correct("公司成立了。[1]", [["1"]])
    assert answer_correct("只有1家公司。[2]", [["1"]])


def test_matching_normalises_width_case_and_punctuation():
    assert answer_correct("它推出了Ａ８００芯片[1]", [["a800"]])
    assert answer_correct("推出了 H 800。", [["H800"]])
    assert answer_correct("NVIDIA 的 CUDA", [["英伟达", "nvidia"], ["cuda"]])
    assert hit_rank(["……在2022年底推出了“特供版”A800和H800芯片。"], ["在2022年底推出了\"特供版\"A800和H800芯片"], 5) == 1


def test_every_group_needs_an_alternative():
    groups = [["A800"], ["H800"]]
    assert not answer_correct("特供版A800[1]", groups)
    assert answer_correct("特供版A800和H800[1]", groups)
    assert answer_correct("anything", [])  # no groups: vacuously correct


def test_a_verbatim_answer_matches_its_quote_however_opencc_reads_the_sentence():
    """OpenCC converts phrases, and a phrase reads differently inside a sentence: 4 行代码
    folds to 4 进程式码 (行 + 程式碼 read as 行程 + 式碼) while the answer 4 行 folds to
    itself. Character by character both are 4 行, so the answer matches."""
    from app.text import normalize

    assert "4行" not in normalize("只需 4 行代码就能写出")  # the phrase conversion, as it is
    assert answer_correct("只需 4 行代码就能写出。[1]", [["4 行"]])
    assert contains_any("只需 4 行代码就能写出", ["4 行代码"])
    # An answer of symbols only is matched as written, and only where it is written.
    assert answer_correct("用 %{ 和 %} 包住多行注释。[1]", [["%{"]])
    assert not answer_correct("多行注释要用括号。[1]", [["%{"]])
    # Across scripts the phrase form still matches (軟體 is 软件, not 软体).
    assert answer_correct("請先安裝軟體套件。[1]", [["安装软件"]])


def test_empty_needles_never_match():
    assert hit_rank(["任何文本"], ["。。。"], 5) is None
    assert not answer_correct("任何文本", [["！"]])


def test_hit_rank_mrr_and_evidence_recall():
    passages = ["无关", "也无关", "真正的转折点,发生在2006年", "等待的果实,在2012年秋天"]
    evidence = ["真正的转折点，发生在2006年", "在2012年秋天", "不存在的证据"]
    assert hit_rank(passages, evidence, 5) == 3
    assert hit_rank(passages, evidence, 2) is None  # only the top k count
    assert hit_rank(passages, [], 5) is None
    assert reciprocal_rank(3) == pytest.approx(1 / 3) and reciprocal_rank(None) == 0.0
    assert evidence_recall(passages, evidence, 5) == pytest.approx(2 / 3)
    assert evidence_recall(passages, evidence, 3) == pytest.approx(1 / 3)
    assert evidence_recall(passages, [], 5) is None


def test_citation_precision():
    assert citation_precision(["有证据A800", "无关"], ["A800"]) == 0.5
    assert citation_precision([], ["A800"]) is None


def _row(**kw) -> Row:
    base = dict(qid="q", question="?", qtype="fact", lang="zh", answerable=True, answers=[["A800"]],
                evidence=["A800"], k=5, answer_text="A800[1]", found=True, passages=["无关", "A800"],
                cited=["A800"], latency_ms=10.0)
    base.update(kw)
    return score_question(**base)


def test_aggregate_on_hand_made_rows():
    rows = [
        _row(qid="a"),  # correct, hit at rank 2, supported
        _row(qid="b", answer_text="H800[1]", cited=["无关"], passages=["A800"], latency_ms=20.0),  # wrong, hit 1
        _row(qid="c", found=False, answer_text="抱歉", cited=[], passages=["无关"], latency_ms=30.0),  # false abstention
        _row(qid="d", answerable=False, answers=[], evidence=[], found=False, answer_text="抱歉", cited=[],
             latency_ms=40.0),  # correct abstention
        _row(qid="e", answerable=False, answers=[], evidence=[], answer_text="乱答[1]", cited=["无关"],
             latency_ms=50.0),  # answered an unanswerable question
    ]
    assert [r.correct for r in rows] == [True, False, False, True, False]
    m = aggregate(rows)
    assert m["n"] == 5 and m["n_answerable"] == 3 and m["n_unanswerable"] == 2
    assert m["hit_at_k"] == pytest.approx(2 / 3)  # over the 3 questions with evidence
    assert m["mrr"] == pytest.approx((0.5 + 1 + 0) / 3)
    assert m["answer_accuracy"] == pytest.approx(1 / 3)
    assert m["citation_support"] == 1.0  # only the correct answer counts
    assert m["citation_precision"] == pytest.approx((1 + 0) / 2)  # answerable answers with citations
    assert m["abstention_accuracy"] == 0.5
    assert m["false_abstention_rate"] == pytest.approx(1 / 3)
    assert m["median_answer_chars"] == 4  # "A800", "H800", "乱答": markers stripped, found only
    assert m["latency_p50_ms"] == 30.0 and m["latency_p95_ms"] == pytest.approx(48.0)
    assert aggregate([])["answer_accuracy"] is None


def test_percentile_matches_numpy_linear():
    assert percentile([1, 2, 3, 4], 50) == 2.5
    assert percentile([5], 95) == 5
    assert percentile([], 50) is None


# -- dataset loading ----------------------------------------------------------------------

GOOD = {"id": "x1", "question": "华为的异构计算架构叫什么？", "answers": [["CANN"]],
        "evidence": ["CANN(异构计算架构)"], "answerable": True, "lang": "zh", "type": "fact"}


def test_bad_lines_are_skipped_with_line_numbers(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [
        GOOD,
        '{"id": "x2", "question": "broken',
        {"id": "x3", "question": "Who?"},
        "",
        {**GOOD, "id": "x1"},
        {**GOOD, "id": "x5", "answers": "CANN"},
        [1, 2],
    ])
    d = load_dataset(path)
    assert [q.id for q in d.questions] == ["x1"]
    text = "\n".join(d.warnings)
    assert f"{path}:2: not valid JSON" in text
    assert f"{path}:3 (id x3): missing keys: answers, answerable; line skipped" in text
    assert f"{path}:5: duplicate id 'x1' (first on line 1); line skipped" in text
    assert f"{path}:6 (id x5): `answers` must be a list of groups" in text
    assert f"{path}:7: expected a JSON object, got list" in text
    assert d.lines_skipped == 5


def test_optional_keys_default(tmp_path):
    path = write_jsonl(tmp_path / "d.jsonl", [
        {"id": 1, "question": "Which company did Sam Altman found?", "answers": [["OpenAI"]], "answerable": True},
        {"id": "2", "question": "黄仁勋是哪一年出生的？", "answers": [], "answerable": False},
    ])
    en, zh = load_dataset(path).questions
    assert (en.id, en.type, en.lang, en.evidence) == ("1", "unknown", "en", [])
    assert (zh.type, zh.lang, zh.answerable, zh.dataset) == ("unknown", "zh", False, "d")


def test_missing_or_empty_dataset_is_an_error(tmp_path):
    with pytest.raises(DatasetError, match="dataset not found: .*nope.jsonl"):
        load_dataset(tmp_path / "nope.jsonl")
    path = write_jsonl(tmp_path / "bad.jsonl", ["not json", '{"id": "a"}'])
    with pytest.raises(DatasetError, match=r"has no usable questions; first problem: .*bad.jsonl:1: not valid JSON"):
        load_dataset(path)
    gbk = tmp_path / "gbk.jsonl"
    gbk.write_bytes(json.dumps(GOOD, ensure_ascii=False).encode("gbk"))
    with pytest.raises(DatasetError, match="is not UTF-8 text"):
        load_dataset(gbk)


def test_cli_errors_are_one_line_without_traceback(tmp_path, capsys):
    assert main(["--dataset", str(tmp_path / "missing.jsonl")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: dataset not found:") and "Traceback" not in err
    assert main(["--dataset", str(tmp_path)]) == 1  # a folder without *.jsonl
    assert capsys.readouterr().err.startswith("error: no *.jsonl files in")
    data = write_jsonl(tmp_path / "d.jsonl", [GOOD])
    bad_config = tmp_path / "config.yaml"
    bad_config.write_text("retrieval:\n  top_kk: 3\n", encoding="utf-8")
    assert main(["--dataset", str(data), "--config", str(bad_config), "--out", str(tmp_path / "o")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: invalid config") and "top_kk" in err and "Traceback" not in err
    assert main(["--dataset", str(data), "--config", str(tmp_path / "none.yaml")]) == 1
    assert "error: config file not found" in capsys.readouterr().err


# -- the gold set itself ------------------------------------------------------------------

def test_gold_set_loads_cleanly():
    d = load_dataset(GOLD)
    assert len(d.questions) == 124 and d.warnings == []


def test_gold_evidence_is_verbatim_in_the_article():
    corpus = ARTICLE.read_text(encoding="utf-8")
    norm = normalize(corpus)
    missing_literal = [(r["id"], e) for r in gold_rows() for e in r["evidence"] if e not in corpus]
    missing_norm = [(r["id"], e) for r in gold_rows() for e in r["evidence"] if normalize(e) not in norm]
    assert missing_literal == [] and missing_norm == []


def test_gold_answers_appear_in_the_article():
    norm = normalize(ARTICLE.read_text(encoding="utf-8"))
    bad = [(r["id"], g) for r in gold_rows() if r["answerable"] for g in r["answers"]
           if not any(normalize(a) in norm for a in g)]
    assert bad == []
    assert all(r["answers"] == [] and r["evidence"] == [] for r in gold_rows() if not r["answerable"])


@pytest.mark.parametrize("name, size", [("debian_faq", 48), ("maint_guide", 44), ("libreoffice_calc_functions", 45),
                                        ("install_guide", 45), ("manpages_zh", 45), ("debian_edu", 45),
                                        ("libreoffice_impress_tw", 45), ("libreoffice_calc_guide_tw", 45),
                                        ("lilypond_learning", 45), ("editor_tutorials", 45),
                                        ("latex_guides", 45), ("libreoffice_math_chart_tw", 45)])
def test_corpus_gold_sets_match_their_extracted_corpus(name, size):
    """Each corpus's gold set loads cleanly, covers every kind of question, and its evidence
    and answers occur in the text the loaders extract (nothing was lost in extraction)."""
    from ingest.loaders import load_document

    data = load_dataset(ROOT / "eval" / "datasets" / name / "gold.jsonl")
    assert data.name == name and len(data.questions) == size and data.warnings == []
    assert {"fact", "list", "paraphrase", "unanswerable"} <= {q.type for q in data.questions}
    assert sum(not q.answerable for q in data.questions) >= 5 and any(q.lang == "en" for q in data.questions)
    folder = ROOT / "eval" / "datasets" / name / "corpus"
    text = "".join(load_document(p, folder, 10**8).text for p in sorted(folder.iterdir()))
    assert [e for q in data.questions for e in q.evidence if not contains_any(text, [e])] == []
    assert [g for q in data.questions for g in q.answers if not contains_any(text, g)] == []


# -- floors -------------------------------------------------------------------------------

def test_floor_keys_and_file_validation(tmp_path):
    assert split_key("hit_at_k") == ("hit_at_k", None)
    assert split_key("answer_accuracy_zh") == ("answer_accuracy", "zh")
    assert split_key("false_abstention_rate") == ("false_abstention_rate", None)
    project = load_floors()  # the committed floors must stay loadable
    assert project.dataset == ["article_gold.jsonl", "conversations.jsonl", "debian_faq/gold.jsonl",
                               "debian_faq/conversations.jsonl", "debian_faq_hant/gold.jsonl",
                               "maint_guide/gold.jsonl", "maint_guide/conversations.jsonl", "article_offtopic.jsonl",
                               "debian_faq/offtopic.jsonl", "maint_guide/offtopic.jsonl"]
    assert split_key("answer_accuracy_maint_guide") == ("answer_accuracy", "maint_guide")
    assert "false_abstention_rate" in project.ceilings
    bad = tmp_path / "floors.yaml"
    bad.write_text("floors:\n  hit_at_kk: 0.5\n", encoding="utf-8")
    with pytest.raises(FloorsError, match="unknown metric 'hit_at_kk'"):
        load_floors(bad)


def test_check_floors_on_a_summary(tmp_path):
    doc = {"systems": {"pipeline": {"overall": {"hit_at_k": 0.8, "false_abstention_rate": 0.2},
                                    "by_lang": {"zh": {"answer_accuracy": 0.7}}, "by_type": {}}}}
    path = tmp_path / "floors.yaml"
    path.write_text("floors: {hit_at_k: 0.9, answer_accuracy_zh: 0.5, answer_accuracy_en: 0.0}\n"
                    "ceilings: {false_abstention_rate: 0.1}\n", encoding="utf-8")
    failures, passes = check_floors(doc, load_floors(path))
    assert failures == ["hit_at_k: 0.8000 < floor 0.9", "false_abstention_rate: 0.2000 > ceiling 0.1"]
    assert any(p.startswith("answer_accuracy_en: not measured") for p in passes)
    assert measured(doc["systems"]["pipeline"], "answer_accuracy_zh") == 0.7


# -- end to end (real model and index, 6 questions) ---------------------------------------

@pytest.fixture(scope="module")
def small_dataset(tmp_path_factory) -> Path:
    by_id = {r["id"]: r for r in gold_rows()}
    lines: list = [by_id[i] for i in SMALL_IDS]
    lines.insert(2, "{not json")  # a bad line is skipped, the run goes on
    return write_jsonl(tmp_path_factory.mktemp("ds") / "small.jsonl", lines)


@pytest.fixture(scope="module")
def baseline_run(article_config_path, small_dataset, tmp_path_factory):
    out = tmp_path_factory.mktemp("evalout")
    code = main(["--dataset", str(small_dataset), "--config", str(article_config_path), "--k", "5",
                 "--out", str(out), "--baselines", "--no-progress"])
    assert code == 0
    return out


def test_run_with_baselines_writes_the_report(baseline_run):
    doc = json.loads((baseline_run / "results.json").read_text(encoding="utf-8"))
    assert set(doc["systems"]) == {"pipeline", "bm25", "dense", "llamaindex"}
    assert doc["meta"]["questions"] == 6 and doc["meta"]["k"] == 5 and doc["meta"]["llm_judge"] is None
    assert any("not valid JSON" in w for w in doc["warnings"])
    for name, rows in doc["rows"].items():
        assert [r["id"] for r in rows] == list(SMALL_IDS), name
        for r in rows:
            assert {"id", "question", "type", "lang", "answerable", "found", "correct", "hit_rank",
                    "cited_sources", "answer", "latency_ms"} <= r.keys()
    for s in doc["systems"].values():
        assert set(s["by_lang"]) == {"zh", "en"} and s["overall"]["n_unanswerable"] == 2
    # The baselines never abstain when something was retrieved.
    assert all(r["found"] for r in doc["rows"]["llamaindex"])
    # llama-index's global Settings stay untouched (their defaults reach for OpenAI).
    from llama_index.core import Settings

    assert Settings._llm is None and Settings._embed_model is None
    pipeline = doc["systems"]["pipeline"]["overall"]
    assert pipeline["hit_at_k"] is not None and pipeline["latency_p50_ms"] > 0
    report = (baseline_run / "report.md").read_text(encoding="utf-8")
    assert "No LLM judge was used" in report
    for title in ("## Overall", "by question type", "by question language", "naive LlamaIndex (top-2)",
                  "## Where the misses are"):
        assert title in report
    assert (baseline_run / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_report_says_where_the_misses_are():
    from eval.report import MISS_KINDS, miss_kind, misses_table

    def row(qid, dataset, answerable=True, correct=False, found=True, hit_rank=1):
        return {"id": qid, "dataset": dataset, "answerable": answerable, "correct": correct,
                "found": found, "hit_rank": hit_rank}

    rows = [row("a1", "a", correct=True), row("a2", "a", hit_rank=None, found=False),
            row("a3", "a", found=False, hit_rank=2), row("b1", "b", hit_rank=3),
            row("b2", "b", answerable=False, correct=False, hit_rank=None)]
    assert [miss_kind(r) for r in rows] == [None, MISS_KINDS[0], MISS_KINDS[1], MISS_KINDS[2], None]
    table = misses_table({"rows": {"pipeline": rows}})
    cells = {line.split("|")[1].strip(): [c.strip() for c in line.split("|")[2:-1]]
             for line in table.splitlines()[2:]}
    # answerable, right, retrieval miss, abstained with the evidence, wrong with the evidence
    assert cells == {"a": ["3", "1", "1", "1", "0"], "b": ["1", "0", "0", "0", "1"], "all": ["4", "1", "1", "1", "1"]}
    assert misses_table({"rows": {"pipeline": []}}) == "_none_"


def test_compare_two_results_files(baseline_run, tmp_path, capsys):
    old_path = baseline_run / "results.json"
    doc = json.loads(old_path.read_text(encoding="utf-8"))
    rows = doc["rows"]["pipeline"]
    answerable = next(r for r in rows if r["answerable"])
    unanswerable = next(r for r in rows if not r["answerable"])
    answerable["correct"] = not answerable["correct"]
    answerable["hit_rank"] = None if answerable["hit_rank"] else 1
    unanswerable["found"] = not unanswerable["found"]
    doc["systems"]["pipeline"]["overall"]["answer_accuracy"] = 0.125
    new_path = write_jsonl(tmp_path / "new.json", [doc])
    assert main(["--compare", str(old_path), str(new_path)]) == 0
    out = capsys.readouterr().out
    assert f"{answerable['id']} [" in out and ("correct → wrong" in out or "wrong → correct" in out)
    assert "abstention flip" in out and "hit rank" in out
    assert "Metric deltas: hybrid pipeline (ours)" in out and "0.125" in out
    # The same comparison as a function, with a question missing from the new run.
    new_doc = json.loads(new_path.read_text(encoding="utf-8"))
    new_doc["rows"]["pipeline"] = new_doc["rows"]["pipeline"][1:]
    assert "only in old run: 1" in compare(json.loads(old_path.read_text(encoding="utf-8")), new_doc)


def test_compare_missing_file_is_an_error(tmp_path, capsys):
    assert main(["--compare", str(tmp_path / "old.json"), str(tmp_path / "new.json")]) == 1
    assert capsys.readouterr().err.startswith("error: results file not found")


def test_check_floors_fails_above_the_measured_value(article_config_path, small_dataset, baseline_run,
                                                     tmp_path, capsys):
    doc = json.loads((baseline_run / "results.json").read_text(encoding="utf-8"))
    hit = doc["systems"]["pipeline"]["overall"]["hit_at_k"]
    floors = tmp_path / "floors.yaml"
    floors.write_text(f"k: 5\nfloors:\n  hit_at_k: {min(hit + 0.01, 1.01)}\n  answer_accuracy_en: 0.0\n"
                      "ceilings:\n  false_abstention_rate: 1.0\n", encoding="utf-8")
    args = ["--dataset", str(small_dataset), "--config", str(article_config_path), "--out", str(tmp_path / "o"),
            "--no-progress", "--check-floors", "--floors", str(floors), "--compare", str(baseline_run / "results.json")]
    assert main(args) == 2
    out = capsys.readouterr().out
    assert "FAIL  hit_at_k:" in out and "ok    answer_accuracy_en" in out
    assert "Question-by-question changes (pipeline" in out  # --compare OLD.json after a fresh run


def test_quality_gate_on_the_gold_set(article_config_path, tmp_path, capsys):
    """The CI gate: our pipeline on the full gold set meets every floor in eval/floors.yaml."""
    code = main(["--config", str(article_config_path), "--out", str(tmp_path / "gate"), "--no-progress",
                 "--check-floors"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "FAIL" not in out


def test_out_that_is_a_file_fails_before_the_run(article_config_path, tmp_path, capsys):
    """Regression: --out pointing at a file raised FileExistsError after the whole run."""
    blocker = tmp_path / "out.txt"
    blocker.write_text("x", encoding="utf-8")
    assert main(["--config", str(article_config_path), "--out", str(blocker), "--no-progress"]) == 1
    assert capsys.readouterr().err.startswith("error: cannot write the report to")
