"""An OpenAI-compatible chat endpoint: ``POST /v1/chat/completions`` and ``GET /v1/models``.

Chat front-ends (Open WebUI, Chatbox, LibreChat, IDE plug-ins) and the ``openai`` client
talk to the assistant as if it were a model. :func:`openai_app` builds the ``/v1`` FastAPI
sub-application; :mod:`app.server` mounts it beside the Gradio UI on one port.

- The last message is the question (it must be the user's); earlier user and assistant
  messages are the history for follow-ups. System messages are ignored: answers come from
  the documents only.
- ``model``: ``<api.model>`` answers in ``answer.mode``; ``<api.model>-extractive`` and
  ``<api.model>-llm`` pick the mode. Sampling options (``temperature``, ``max_tokens``...)
  are accepted and ignored. Extra body fields: ``top_k``, ``sources``, ``sources_in_text``.
- The reply ``content`` is the answer with ``[n]`` markers. ``message`` (and, when
  streaming, the last chunk's ``delta``) carries extra fields: ``citations`` (the
  :mod:`app.api` passage JSON, ``number`` = marker), ``found``, ``confidence``,
  ``searched_as`` and ``notice``. With ``api.sources_in_text`` a short "Sources:" list is
  appended to the text for clients that show only text.
- An abstention is a normal reply (the fixed refusal, ``found: false``), not an error.
- ``stream: true`` sends server-sent events in OpenAI's ``chat.completion.chunk`` shape,
  ending with ``data: [DONE]``.
- Errors use OpenAI's shape ``{"error": {"message", "type", "param", "code"}}``: 400 for
  a malformed request, 401 for a missing or wrong token, 404 for an unknown model, 413 for
  a body over ``api.max_request_kb``, 503 when the index cannot be used; never a traceback.
"""

from __future__ import annotations

import hmac
import json
import logging
import re
import time
import uuid
from typing import Any, Iterator

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from .api import passage_json
from .errors import AssistantError, EmptyQuestionError, InvalidRequestError
from .passages import Answer

log = logging.getLogger("app.openai_api")

#: Marks the appended sources list, so a client that sends our reply back as history does
#: not feed file names to the follow-up resolution.
SOURCES_HEADING = "Sources:"
_SOURCES_BLOCK = re.compile(r"\n\n" + SOURCES_HEADING + r"\n(?:\[\d+\][^\n]*(?:\n|$))+\s*$")
_MODES = ("extractive", "llm")


class APIError(Exception):
    """An error answered in OpenAI's JSON shape."""

    def __init__(self, status: int, message: str, type_: str = "invalid_request_error", param: str | None = None,
                 code: str | None = None):
        super().__init__(message)
        self.status, self.message, self.type, self.param, self.code = status, message, type_, param, code

    def response(self) -> JSONResponse:
        """The JSON response clients expect."""
        body = {"error": {"message": self.message, "type": self.type, "param": self.param, "code": self.code}}
        headers = {"WWW-Authenticate": "Bearer"} if self.status == 401 else None
        return JSONResponse(body, status_code=self.status, headers=headers)


def _assistant_error(exc: AssistantError) -> APIError:
    if isinstance(exc, (InvalidRequestError, EmptyQuestionError)):
        return APIError(400, str(exc))
    return APIError(503, str(exc), "server_error", code="unavailable")


def sources_text(answer: Answer) -> str:
    """The short "Sources:" block appended to the reply text ('' when nothing is cited)."""
    if not answer.found or not answer.citations:
        return ""
    lines = []
    for c in answer.citations:
        where = c.location + (f" § {c.section}" if c.section else "")
        lines.append(f"[{c.number}] {where}")
    return f"\n\n{SOURCES_HEADING}\n" + "\n".join(lines)


def strip_sources(text: str) -> str:
    """``text`` without a trailing block added by :func:`sources_text`."""
    return _SOURCES_BLOCK.sub("", text)


def answer_fields(answer: Answer) -> dict[str, Any]:
    """The extra message fields: citations, found, confidence, searched_as, notice."""
    return {"citations": [passage_json(c, c.number) for c in answer.citations], "found": answer.found,
            "confidence": round(float(answer.confidence), 4), "searched_as": answer.resolved_question,
            "notice": answer.notice}


def _content_text(content: Any, where: str) -> str:
    """A message's text: a string, or the text parts of a content-part list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = []
        for part in content:
            if not isinstance(part, dict) or not isinstance(part.get("type"), str):
                raise APIError(400, f"{where}: each content part must be an object with a type", param="messages")
            if part["type"] == "text":
                if not isinstance(part.get("text"), str):
                    raise APIError(400, f"{where}: a text part needs a string 'text'", param="messages")
                texts.append(part["text"])
        return "\n".join(texts)
    raise APIError(400, f"{where}: content must be a string or a list of content parts", param="messages")


class ChatRequest:
    """A validated ``/v1/chat/completions`` body (hand-checked so every problem is a 400
    with a message naming the field, not FastAPI's 422)."""

    def __init__(self, body: Any, model_ids: dict[str, str | None], default_model: str, sources_in_text: bool):
        if not isinstance(body, dict):
            raise APIError(400, "the request body must be a JSON object")
        model = body.get("model", default_model)
        if not isinstance(model, str):
            raise APIError(400, "model must be a string", param="model")
        if model not in model_ids:
            raise APIError(404, f"the model {model!r} does not exist; available: {', '.join(model_ids)}",
                           param="model", code="model_not_found")
        self.model, self.mode = model, model_ids[model]
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise APIError(400, "messages must be a non-empty list of {role, content} objects", param="messages")
        turns = []
        for i, m in enumerate(messages):
            if not isinstance(m, dict) or not isinstance(m.get("role"), str):
                raise APIError(400, f"messages[{i}] must be an object with a string role", param="messages")
            text = _content_text(m.get("content"), f"messages[{i}]")
            turns.append((m["role"], text))
        role, question = turns[-1]
        if role != "user":
            raise APIError(400, f"the last message must be the user's question, not {role!r}", param="messages")
        self.question = question
        self.history = [{"role": r, "content": strip_sources(t) if r == "assistant" else t}
                        for r, t in turns[:-1] if r in ("user", "assistant") and t.strip()]
        self.stream = body.get("stream", False)
        if not isinstance(self.stream, bool):
            raise APIError(400, "stream must be true or false", param="stream")
        n = body.get("n", 1)
        if n != 1 or isinstance(n, bool):
            raise APIError(400, "only n=1 is supported: one answer per question", param="n")
        self.top_k = body.get("top_k")
        if self.top_k is not None and (isinstance(self.top_k, bool) or not isinstance(self.top_k, int)):
            raise APIError(400, "top_k must be a whole number", param="top_k")
        sources = body.get("sources")
        if sources is not None and (not isinstance(sources, list) or not all(isinstance(s, str) for s in sources)):
            raise APIError(400, "sources must be a list of file names", param="sources")
        self.sources = sources or None
        self.sources_in_text = body.get("sources_in_text", sources_in_text)
        if not isinstance(self.sources_in_text, bool):
            raise APIError(400, "sources_in_text must be true or false", param="sources_in_text")

    def ask_args(self) -> dict[str, Any]:
        """Keyword arguments for ``Assistant.ask`` / ``ask_stream``."""
        return {"history": self.history, "top_k": self.top_k, "sources": self.sources, "mode": self.mode}


def openai_app(assistant, config) -> FastAPI:
    """The ``/v1`` sub-application over ``assistant`` (mount it at ``/v1``)."""
    api = config.api
    token = api.token
    model_ids: dict[str, str | None] = {api.model: None, **{f"{api.model}-{m}": m for m in _MODES}}
    limit = api.max_request_kb * 1024

    def check_token(request: Request) -> None:
        # Runs before the body is read: a wrong token costs the server nothing.
        if token is None:
            return
        scheme, _, given = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(given.strip().encode(), token.encode()):
            raise APIError(401, "missing or incorrect API key: send Authorization: Bearer <api.token>",
                           code="invalid_api_key")

    app = FastAPI(title="Cited answers: OpenAI-compatible API", docs_url=None, redoc_url=None, openapi_url=None,
                  dependencies=[Depends(check_token)])

    @app.exception_handler(APIError)
    async def _api_error(request: Request, exc: APIError):
        return exc.response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException):
        message = {404: f"unknown path {request.url.path}: use /v1/chat/completions or /v1/models",
                   405: f"{request.method} is not allowed on {request.url.path}"}.get(exc.status_code, str(exc.detail))
        return APIError(exc.status_code, message).response()

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError):
        return APIError(400, "invalid request").response()

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):  # the log keeps the traceback
        log.exception("request to %s failed", request.url.path)
        return APIError(500, f"the server failed ({type(exc).__name__}); its log has the details", "server_error").response()

    @app.get("/models")
    def models():
        """The model ids this server answers to (one per answer mode)."""
        now = int(time.time())
        return {"object": "list", "data": [{"id": m, "object": "model", "created": now, "owned_by": "cited-answers"}
                                           for m in model_ids]}

    @app.post("/chat/completions")
    async def chat_completions(request: Request):
        """Answer the last user message from the documents (see the module docstring)."""
        too_large = APIError(413, f"the request body is over {api.max_request_kb} KB (api.max_request_kb)")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise too_large
        parts, size = [], 0
        async for part in request.stream():  # a chunked body without a length is cut off early too
            size += len(part)
            if size > limit:
                raise too_large
            parts.append(part)
        raw = b"".join(parts)
        try:
            body = json.loads(raw)
        except (ValueError, UnicodeDecodeError) as exc:
            raise APIError(400, f"the body is not valid JSON ({exc})") from None
        req = ChatRequest(body, model_ids, api.model, api.sources_in_text)
        if req.stream:
            return await _stream(req)
        try:
            answer = await run_in_threadpool(lambda: assistant.ask(req.question, **req.ask_args()))
        except AssistantError as exc:
            raise _assistant_error(exc) from None
        text = answer.text + (sources_text(answer) if req.sources_in_text else "")
        return {"id": _completion_id(), "object": "chat.completion", "created": int(time.time()), "model": req.model,
                "choices": [{"index": 0, "finish_reason": "stop", "logprobs": None,
                             "message": {"role": "assistant", "content": text, **answer_fields(answer)}}]}

    async def _stream(req: ChatRequest):
        steps = assistant.ask_stream(req.question, **req.ask_args())
        try:  # the first step surfaces a bad request as a 400, before the 200 is sent
            first = await run_in_threadpool(next, steps)
        except AssistantError as exc:
            steps.close()
            raise _assistant_error(exc) from None
        return StreamingResponse(_closing(_events(req, first, steps)), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    return app


async def _closing(events: Iterator[str]):
    """Iterate ``events`` in worker threads and close it when the response ends, also when
    the client hung up: Starlette then cancels the response, and closing the generator
    closes the answer stream and with it the request to the LLM server."""
    try:
        async for event in iterate_in_threadpool(events):
            yield event
    finally:
        try:
            events.close()
        except ValueError:  # still running in its thread: it stops at its next yield
            log.debug("event stream still running at close")


def _completion_id() -> str:
    return "chatcmpl-" + uuid.uuid4().hex


def _events(req: ChatRequest, first, steps) -> Iterator[str]:
    """Server-sent events for a stream whose first step is ``first``.

    Deltas only ever append. In LLM mode the final, verified text can differ from what
    was streamed (the model's reply was unusable and the extractive answer replaced it):
    then the replacement follows the streamed text after a blank line, with its notice.
    """
    cid, created = _completion_id(), int(time.time())

    def chunk(delta: dict, finish: str | None = None) -> str:
        body = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": req.model,
                "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    sent = ""
    try:
        yield chunk({"role": "assistant", "content": ""})
        step = first
        while step is not None and not step.done:
            if step.text.startswith(sent) and len(step.text) > len(sent):
                yield chunk({"content": step.text[len(sent):]})
                sent = step.text
            step = next(steps, None)
        if step is not None:
            answer = step.answer
            if answer.text.startswith(sent):
                rest = answer.text[len(sent):]
            else:
                rest = "\n\n" + (f"({answer.notice})\n" if answer.notice else "") + answer.text
            if req.sources_in_text:
                rest += sources_text(answer)
            if rest:
                yield chunk({"content": rest})
            yield chunk(answer_fields(answer), "stop")
    except AssistantError as exc:
        err = _assistant_error(exc)
        yield _error_event(err.message, err.type)
    except Exception as exc:  # headers are sent: report in-band, keep the traceback in the log
        log.exception("streaming an answer failed")
        yield _error_event(f"answering failed ({type(exc).__name__}); the server log has the details", "server_error")
    finally:
        steps.close()  # the answer is done or the client went away: close the LLM request
    yield "data: [DONE]\n\n"


def _error_event(message: str, type_: str) -> str:
    return f"data: {json.dumps({'error': {'message': message, 'type': type_}}, ensure_ascii=False)}\n\n"
