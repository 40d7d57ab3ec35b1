"""answer.mode: llm against a scripted OpenAI-compatible stub (tests/llm_stub.py).

The stub makes the model's behaviour deterministic: a supported or hallucinated reply, a
slow one, a broken one. These tests cover the verifier's wiring, the concurrency bound,
token streaming and cancellation, condensed follow-ups, and every failure path. The real
llama-server tests are in tests/test_llm.py.
"""

from __future__ import annotations

import json
import logging
import re
import time

import pytest

from app import Assistant
from app.config import load_config
from app.llm import CONDENSE_PROMPT

from .llm_stub import Reply, start_stub

SECRET = "sk-test-SECRET-7f3a9c"
QUESTION = "华为的异构计算架构叫什么？"


@pytest.fixture(scope="module")
def stub():
    state, server = start_stub()
    yield state
    server.shutdown()
    server.server_close()


def _passages(request: dict) -> dict[int, str]:
    """The numbered passages of an answer request, by number."""
    user = request["messages"][-1]["content"]
    found = re.findall(r"\[(\d+)\] \([^)]*\) (.*?)(?=\n\n\[\d+\] \(|\n\n问题: |\n\nQuestion: )", user, re.S)
    return {int(n): text for n, text in found}


def _first_sentence(text: str) -> str:
    return re.match(r".+?[。！？]", text).group(0)


def _sentence_with(request: dict, needle: str) -> tuple[int, str]:
    """(passage number, first sentence of it containing ``needle``)."""
    for n, text in _passages(request).items():
        for s in re.findall(r"[^。！？\n]+[。！？]", text):
            if needle in s:
                return n, s.strip()
    raise AssertionError(f"no passage sentence contains {needle!r}")


def is_condense(request: dict) -> bool:
    return request["messages"][0]["content"] == CONDENSE_PROMPT


def make_assistant(base: Assistant, article_config_path, stub, **llm) -> Assistant:
    cfg = load_config(article_config_path)
    cfg = cfg.model_copy(deep=True)
    cfg.answer.mode = "llm"
    settings = {"base_url": stub.url, "api_key": SECRET, "timeout_s": 3.0, "max_concurrency": 4, **llm}
    cfg.llm = cfg.llm.model_copy(update=settings)
    return Assistant(cfg, embedder=base.embedder)


@pytest.fixture(scope="module")
def llm_assistant(assistant, article_config_path, stub):
    return make_assistant(assistant, article_config_path, stub)


def supported(request: dict) -> Reply:
    n, sentence = _sentence_with(request, "CANN")
    return Reply(f"{sentence}[{n}]")


# -- verification ----------------------------------------------------------------------------


def test_a_supported_reply_is_shown_as_the_models_with_every_sentence_verified(llm_assistant, stub):
    stub.reset(supported)
    answer = llm_assistant.ask(QUESTION)
    assert answer.mode == "llm" and answer.found and answer.notice is None
    assert "CANN" in answer.text and answer.citations[0].number == 1
    assert [(s.markers, s.supported) for s in answer.sentences] == [([1], True)]
    assert answer.sentences[0].support >= llm_assistant.answerer.verifier.weights.threshold


def test_a_hallucinated_sentence_is_marked_unverified_in_api_json_chat_and_cli(llm_assistant, stub, capsys):
    from app import cli, ui

    def mixed(request):
        n, sentence = _sentence_with(request, "CANN")
        return Reply(f"{sentence}[{n}] 华为在1987年把CANN卖给了微软，售价三百亿美元。[{n}] 这是业内共识。")

    stub.reset(mixed)
    answer = llm_assistant.ask(QUESTION)
    assert answer.mode == "llm" and answer.found
    verdicts = [(s.markers, s.supported) for s in answer.sentences]
    assert verdicts == [([1], True), ([1], False), ([], False)]  # no marker: unsupported
    assert answer.sentences[2].support == 0.0
    as_json = json.loads(json.dumps(answer.to_dict(), ensure_ascii=False))
    assert [s["supported"] for s in as_json["sentences"]] == [True, False, False]
    chat, _, _ = list(ui.chat_stream(llm_assistant, QUESTION))[-1]
    html = chat[-1]["content"]
    assert html.count('class="rag-unverified"') == 2 and "unverified</sup>" in html
    assert "1987" in html.split('class="rag-unverified"')[1]  # the mark wraps the bad sentence
    cli._print_answer(answer)
    assert "Unverified" in capsys.readouterr().out


def test_a_reply_with_no_supported_sentence_falls_back_to_the_extractive_answer(llm_assistant, stub):
    stub.reset(lambda r: Reply("华为的异构计算架构叫做鸿蒙，2009年由英特尔发布。[1]"))
    answer = llm_assistant.ask(QUESTION)
    assert answer.mode == "extractive" and answer.found and "CANN" in answer.text
    assert answer.notice.startswith("No sentence of the LLM's answer is supported by the passage it cites")
    assert answer.sentences == []


# -- failures: always the extractive answer with a notice, never the key ------------------------

FAILURES = {
    "timeout": (lambda r: Reply("迟到的回答。[1]", delay_s=4.5), "did not answer within llm.timeout_s=3 s"),
    "http 500": (lambda r: Reply(status=500), "answered HTTP 500"),
    "http 401": (lambda r: Reply(status=401, body=json.dumps({"error": {"message": f"bad key {SECRET}"}})),
                 "answered HTTP 401 (check llm.api_key)"),
    "http 404": (lambda r: Reply(status=404), "answered HTTP 404 (check llm.model)"),
    "empty reply": (lambda r: Reply(""), "reply was empty"),
    "wrong language": (lambda r: Reply("Huawei's architecture is called CANN. [1]"), "another language"),
    "cut at max_tokens": (lambda r: Reply("华为的异构计算架构叫做CANN，它的全称是", finish_reason="length"),
                          "cut off at llm.max_tokens"),
    "no marker": (lambda r: Reply("华为的异构计算架构叫CANN。"), "cited no passage"),
}


@pytest.mark.parametrize("case", FAILURES)
def test_each_failure_gives_the_extractive_answer_with_a_notice_and_never_the_key(llm_assistant, stub, caplog,
                                                                                   case):
    script, expected = FAILURES[case]
    stub.reset(script)
    with caplog.at_level(logging.DEBUG):
        answer = llm_assistant.ask(QUESTION)
        steps = list(llm_assistant.ask_stream(QUESTION))  # the streaming path fails the same way
    for final in (answer, steps[-1].answer):
        assert final.mode == "extractive" and final.found and "CANN" in final.text
        assert expected.lower() in final.notice.lower() and final.notice.endswith("this is the extractive answer.")
    assert steps[-1].done and steps[-1].text == answer.text
    exposed = json.dumps(answer.to_dict(), ensure_ascii=False) + caplog.text + json.dumps(
        steps[-1].answer.to_dict(), ensure_ascii=False)
    assert SECRET not in exposed
    assert stub.headers and stub.headers[0]["Authorization"] == f"Bearer {SECRET}"  # it was sent, only there


def test_the_key_never_reaches_the_ui(llm_assistant, stub):
    from app import ui

    stub.reset(FAILURES["http 401"][0])
    steps = list(ui.chat_stream(llm_assistant, QUESTION))
    assert all(SECRET not in json.dumps(chat) + panel for chat, panel, _ in steps)
    assert "check llm.api_key" in steps[-1][1]


# -- concurrency -------------------------------------------------------------------------------


def _ask_concurrently(assistant, n: int) -> tuple[float, list]:
    from bench.common import run_concurrently

    results: list = [None] * n

    def run(i):
        results[i] = assistant.ask(QUESTION)

    return run_concurrently([lambda i=i: run(i) for i in range(n)]), results


def test_requests_to_the_model_run_outside_the_lock(llm_assistant, stub):
    """4 callers, a server that takes 1 s per reply: all 4 requests are in flight at once
    (serialised, they would take 4 s)."""
    def slow(request):
        reply = supported(request)
        reply.delay_s = 1.0
        return reply

    stub.reset(supported)
    llm_assistant.ask(QUESTION)  # warm: the first question loads the tokenizers
    stub.reset(slow)
    wall, results = _ask_concurrently(llm_assistant, 4)
    print(f"4 concurrent LLM asks, 1 s server: {wall:.2f} s wall")
    assert stub.max_in_flight == 4
    assert all(a.mode == "llm" and a.notice is None for a in results)
    assert wall < 3.5  # serialised would be over 4 s; the measured figure is printed above


def test_max_concurrency_bounds_the_requests_in_flight(assistant, article_config_path, stub):
    bounded = make_assistant(assistant, article_config_path, stub, max_concurrency=2)

    def slow(request):
        reply = supported(request)
        reply.delay_s = 0.5
        return reply

    stub.reset(slow)
    _, results = _ask_concurrently(bounded, 4)
    assert stub.max_in_flight == 2 and len(stub.requests) == 4
    assert all(a.mode == "llm" for a in results)


# -- streaming ---------------------------------------------------------------------------------


def test_tokens_stream_in_order_with_markers_renumbered_as_they_arrive(llm_assistant, stub):
    def two_sources(request):
        n, sentence = _sentence_with(request, "CANN")
        other = next(k for k in _passages(request) if k != n)
        first = _first_sentence(_passages(request)[other])
        return Reply(f"{sentence}[{n}] {first}[{other}]", token_chars=3, token_delay_s=0.01)

    stub.reset(two_sources)
    steps = list(llm_assistant.ask_stream(QUESTION))
    partial, final = steps[:-1], steps[-1]
    assert len(partial) >= 10 and not any(s.done for s in partial) and final.done
    texts = [s.text for s in partial]
    for shorter, longer in zip(texts, texts[1:]):
        assert longer.startswith(shorter.rstrip(" ["))
    assert "".join(s.delta for s in partial).count("[") == 2
    # The model's own numbers (n, other) are shown as [1], [2] from the first token on.
    assert re.findall(r"\[(\d+)\]", final.text) == ["1", "2"]
    assert all(set(re.findall(r"\[(\d+)\]", t)) <= {"1", "2"} for t in texts)
    assert final.answer.mode == "llm" and len(final.answer.sentences) == 2
    assert final.answer.sentences[0].supported
    assert [c.number for c in steps[-2].answer.citations] == [1, 2]


def test_closing_the_stream_closes_the_request_to_the_server(llm_assistant, stub):
    def long_reply(request):
        n, sentence = _sentence_with(request, "CANN")
        return Reply((sentence + f"[{n}]") * 20, token_chars=2, token_delay_s=0.05)

    stub.reset(long_reply)
    stream = llm_assistant.ask_stream(QUESTION)
    for i, step in enumerate(stream):
        if i == 3:
            break
    stream.close()  # what a web server does when the client goes away
    deadline = time.time() + 5
    while not stub.hung_up and time.time() < deadline:
        time.sleep(0.05)
    assert stub.hung_up and stub.completed_streams == 0
    sent, _ = stub.hung_up[0]
    assert sent < 100  # it stopped long before the reply's ~400 tokens


def test_a_ui_stream_closed_by_gradio_closes_the_request_to_the_server(llm_assistant, stub):
    from app import ui

    def long_reply(request):
        n, sentence = _sentence_with(request, "CANN")
        return Reply((sentence + f"[{n}]") * 20, token_chars=2, token_delay_s=0.05)

    stub.reset(long_reply)
    steps = ui.chat_stream(llm_assistant, QUESTION)
    for chat, panel, _ in steps:
        if "[1]" in chat[-1]["content"] or "cite-1" in chat[-1]["content"]:
            assert 'class="rag-ref" href="#cite-1"' in chat[-1]["content"]  # a link while streaming
            break
    steps.close()  # what Gradio does when the browser disconnects or the event is cancelled
    deadline = time.time() + 5
    while not stub.hung_up and time.time() < deadline:
        time.sleep(0.05)
    assert stub.hung_up and stub.completed_streams == 0


# -- condensed follow-ups -----------------------------------------------------------------------


def _condensing(rewrite: str):
    def script(request):
        if is_condense(request):
            return Reply(rewrite)
        return supported(request)
    return script


def test_a_follow_up_is_rewritten_by_the_model_and_shown_as_searched_as(llm_assistant, stub):
    stub.reset(_condensing("华为的异构计算架构CANN是用来做什么的？"))
    history = [("华为的异构计算架构叫什么？", "华为的异构计算架构叫CANN。[1]")]
    answer = llm_assistant.ask("它是用来做什么的？", history=history)
    assert answer.resolved_question == "华为的异构计算架构CANN是用来做什么的？"
    condense = [r for r in stub.requests if is_condense(r)]
    assert len(condense) == 1 and "它是用来做什么的" in condense[0]["messages"][-1]["content"]
    assert "华为的异构计算架构叫CANN" in condense[0]["messages"][-1]["content"]  # the answer is context too


def test_a_standalone_question_is_never_sent_for_rewriting(llm_assistant, stub):
    stub.reset(_condensing("完全不同的问题？"))
    answer = llm_assistant.ask("英伟达在2022年底推出了哪些特供版芯片？", history=["华为的异构计算架构叫什么？"])
    assert answer.resolved_question is None and not any(is_condense(r) for r in stub.requests)


def test_a_continuation_quotes_what_follows_without_asking_the_model(llm_assistant, stub):
    """后来呢？ is answered by the document's next sentences, in LLM mode too: the model is
    not asked to answer (it could only paraphrase them)."""
    stub.reset(_condensing("CUDA后来怎么样了？"))
    first = llm_assistant.ask("CUDA最初几年受欢迎吗？", mode="extractive")
    stub.reset(_condensing("CUDA后来怎么样了？"))
    answer = llm_assistant.ask("后来呢？", history=[("CUDA最初几年受欢迎吗？", first.text)])
    assert answer.found and answer.mode == "extractive" and "生态护城河" in answer.text
    assert not stub.requests  # neither a rewrite nor an answer is asked of the model
    steps = list(llm_assistant.ask_stream("后来呢？", history=[("CUDA最初几年受欢迎吗？", first.text)]))
    assert steps[-1].done and steps[-1].answer.text == answer.text


@pytest.mark.parametrize("bad", ["server error", "other language", "empty"])
def test_a_failed_rewrite_falls_back_to_the_offline_rules(llm_assistant, stub, bad):
    from app.followup import resolve_followup

    def script(request):
        if is_condense(request):
            return {"server error": Reply(status=503), "other language": Reply("What is it used for?"),
                    "empty": Reply("  ")}[bad]
        return supported(request)

    stub.reset(script)
    history = ["英伟达在2006年推出了什么软件平台？"]
    answer = llm_assistant.ask("那H20呢？", history=history)
    assert answer.resolved_question == resolve_followup("那H20呢？", history)


# -- the OpenAI-compatible endpoint in LLM mode ---------------------------------------------------


@pytest.fixture(scope="module")
def llm_server(llm_assistant):
    from app.server import start_in_thread

    running = start_in_thread(llm_assistant)
    yield running.url
    running.stop()


def _sse(url: str, question: str, **body) -> list[dict]:
    import httpx

    with httpx.stream("POST", url + "/v1/chat/completions", timeout=60,
                      json={"model": "cited-answers-llm", "stream": True, "sources_in_text": False,
                            "messages": [{"role": "user", "content": question}], **body}) as r:
        assert r.status_code == 200
        events = [line[6:] for line in r.iter_lines() if line.startswith("data: ")]
    assert events[-1] == "[DONE]"
    return [json.loads(e) for e in events[:-1]]


def test_the_v1_stream_relays_the_models_tokens_as_they_arrive(llm_assistant, llm_server, stub):
    def tokens(request):
        n, sentence = _sentence_with(request, "CANN")
        return Reply(f"{sentence}[{n}]", token_chars=3, token_delay_s=0.01)

    stub.reset(tokens)
    chunks = _sse(llm_server, QUESTION)
    pieces = [c["choices"][0]["delta"].get("content") for c in chunks]
    text = "".join(p for p in pieces if p)
    assert len([p for p in pieces if p]) > 5  # token by token, not one block at the end
    last = chunks[-1]["choices"][0]
    assert last["finish_reason"] == "stop" and last["delta"]["found"] is True and last["delta"]["notice"] is None
    assert text.endswith("[1]") and "CANN" in text and [c["number"] for c in last["delta"]["citations"]] == [1]


def test_an_unusable_reply_streams_the_extractive_answer_after_it_with_the_notice(llm_assistant, llm_server, stub):
    stub.reset(lambda r: Reply("华为的异构计算架构叫做鸿蒙，2009年由英特尔发布。[1]", token_chars=4))
    chunks = _sse(llm_server, QUESTION)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks)
    final = chunks[-1]["choices"][0]["delta"]
    assert final["notice"] and final["found"]
    streamed, replacement = text.split("\n\n", 1)
    assert "鸿蒙" in streamed  # what was already sent stays (deltas only append) ...
    assert replacement.startswith(f"({final['notice']})\n") and "CANN" in replacement  # ... then the real answer


def test_a_v1_client_that_hangs_up_closes_the_request_to_the_model(llm_server, stub):
    import httpx

    def long_reply(request):
        n, sentence = _sentence_with(request, "CANN")
        return Reply((sentence + f"[{n}]") * 20, token_chars=2, token_delay_s=0.05)

    stub.reset(long_reply)
    with httpx.stream("POST", llm_server + "/v1/chat/completions", timeout=60,
                      json={"model": "cited-answers-llm", "stream": True,
                            "messages": [{"role": "user", "content": QUESTION}]}) as r:
        for i, _ in enumerate(r.iter_lines()):
            if i == 8:
                break  # leaving the block closes the connection
    deadline = time.time() + 10
    while not stub.hung_up and time.time() < deadline:
        time.sleep(0.05)
    assert stub.hung_up and stub.completed_streams == 0


def test_warm_up_loads_the_lazy_parts_without_asking_the_model(assistant, article_config_path, stub):
    """``serve`` warms up in the background; in LLM mode that must not spend a request of
    the user's model server (warm-up answers extractively)."""
    from app.crosslingual import _tables

    stub.reset(supported)
    warm = make_assistant(assistant, article_config_path, stub)
    assert warm.crosslingual._glossary is None
    assert warm.warm_up() > 0
    assert stub.requests == []
    assert warm.crosslingual._glossary is not None and _tables.cache_info().currsize == 1


def test_warm_up_waits_for_a_quiet_server_and_stops_when_asked(assistant, article_config_path, stub):
    """With ``idle_s`` nothing runs until no question has come for that long (``serve``
    uses 2 s); a stop (the server shutting down) ends the wait at once."""
    import threading

    warm = make_assistant(assistant, article_config_path, stub)
    stop = threading.Event()
    thread = threading.Thread(target=warm.warm_up, args=(stop, 60.0))
    thread.start()
    warm.ask(QUESTION, mode="extractive")  # a client asking meanwhile is served as usual
    stop.set()
    thread.join(timeout=10)
    assert not thread.is_alive() and warm.crosslingual._glossary is None
