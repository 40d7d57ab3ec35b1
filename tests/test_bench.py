"""The benchmark suite's own pieces (``python -m bench``): summaries and the synthetic corpus
used for scaling, so that `make bench` does not rot between runs."""

from __future__ import annotations

import pytest

from app import Assistant
from bench.common import summary
from bench.scaling import build


def test_summary_reports_median_p95_min_max():
    s = summary([5.0, 1.0, 3.0, 2.0, 4.0])
    assert s == {"n": 5, "median": 3.0, "p95": 5.0, "min": 1.0, "max": 5.0}
    assert summary([]) == {"n": 0}


def test_synthetic_scaling_corpus_is_a_working_index(assistant, tmp_path):
    cfg = assistant.config.model_copy(deep=True)
    cfg.data_dir = tmp_path / "data"
    cfg.store.path = tmp_path / "chroma"
    cfg.store.collection = "scale_test"
    build(assistant, cfg, 250)
    synthetic = Assistant(cfg, embedder=assistant.embedder)
    info = synthetic.info()
    assert info.chunks == 250 and info.sentences == 750 and info.ingest_state == "complete"
    passages = synthetic.retrieve("华为的异构计算架构叫什么？")
    assert passages and all(p.source.startswith("synthetic/") for p in passages)
    assert any("CANN" in p.text for p in passages)  # real article sentences, realistic vectors


def test_unknown_bench_section_is_refused(capsys):
    from bench.__main__ import main

    with pytest.raises(SystemExit):
        main(["--only", "everything"])
    assert "unknown section" in capsys.readouterr().err


def test_http_api_load_section_runs_clean(assistant):
    from bench.load import api_concurrency

    out = api_concurrency(assistant, callers=(1, 2), per_caller=2)
    for row in [*out["openai"].values(), *out["gradio"].values()]:
        assert row["errors"] == 0 and row["answers_differing_from_serial"] == 0 and row["questions"] >= 2
