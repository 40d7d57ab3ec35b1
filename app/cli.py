"""Command line: ``python -m app ask "问题" [--json]`` and ``python -m app serve``."""

from __future__ import annotations

import argparse
import json
import sys

from .errors import AssistantError


def _print_answer(answer) -> None:
    print(answer.text)
    if answer.notice:
        print(f"\n(note: {answer.notice})")
    unverified = [s for s in answer.sentences if not s.supported]
    if unverified:
        print("\nUnverified (the cited passage does not support it):")
        for s in unverified:
            print(f"  - {s.text}  (support {s.support:.2f})")
    if answer.resolved_question:
        print(f"\n(searched as: {answer.resolved_question})")
    shown = answer.citations if answer.found else answer.passages[:3]
    title = "Citations" if answer.found else "Closest passages"
    if shown:
        print(f"\n{title}:")
    for i, p in enumerate(shown, 1):
        number = getattr(p, "number", i)
        print(f"[{number}] {p.location}  (score {p.score:.4f})")
        if p.section:
            print(f"    § {p.section}")
        print("    " + p.text.replace("\n", "\n    "))


def cmd_ask(args) -> int:
    """Answer one question (or read questions from stdin in a loop with --interactive)."""
    from .assistant import Assistant

    assistant = Assistant.from_config(args.config)
    sources = args.source or None
    if args.interactive:
        history: list[str] = []
        print("Ask a question (empty line or Ctrl-D to quit).")
        for line in sys.stdin:
            q = line.strip()
            if not q:
                break
            try:
                answer = assistant.ask(q, history=history, top_k=args.top_k, sources=sources)
            except AssistantError as exc:
                print(f"error: {exc}", file=sys.stderr)
                continue
            except Exception as exc:  # one bad line must not end the session
                print(f"error: could not answer ({type(exc).__name__}: {exc})", file=sys.stderr)
                continue
            _print_answer(answer)
            history.append(q)
            print()
        return 0
    answer = assistant.ask(args.question, top_k=args.top_k, sources=sources)
    if args.json:
        from .api import answer_json

        print(json.dumps(answer_json(answer), ensure_ascii=False, indent=2))
    else:
        _print_answer(answer)
    return 0


def cmd_serve(args) -> int:
    """Start the browser UI and the OpenAI-compatible API on one port."""
    from .server import serve

    serve(config_path=args.config, host=args.host, port=args.port)
    return 0


def _port(value: str) -> int:
    port = int(value)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{value} is not a TCP port (1-65535)")
    return port


def _top_k(value: str) -> int:
    k = int(value)
    if k < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return k


def main(argv: list[str] | None = None) -> int:
    """Entry point; known errors print one message and exit 1."""
    parser = argparse.ArgumentParser(prog="python -m app", description="Cited answers over your documents.")
    parser.add_argument("--config", default=None, help="path to config.yaml (default: the project's)")
    sub = parser.add_subparsers(dest="command", required=True)
    ask = sub.add_parser("ask", help="answer a question with cited passages")
    ask.add_argument("question", nargs="?", default="")
    ask.add_argument("--json", action="store_true", help="print the answer as JSON")
    ask.add_argument("--top-k", type=_top_k, default=None, help="passages to retrieve")
    ask.add_argument("--source", action="append", help="only search this file (repeatable)")
    ask.add_argument("--interactive", "-i", action="store_true", help="keep asking from stdin, with follow-ups")
    serve = sub.add_parser("serve", help="start the browser UI and the API (/v1, /ask)")
    serve.add_argument("--host", default=None, help="interface to bind (default from config: 127.0.0.1)")
    serve.add_argument("--port", type=_port, default=None, help="port (default from config)")
    args = parser.parse_args(argv)
    try:
        if args.command == "ask":
            return cmd_ask(args)
        return cmd_serve(args)
    except AssistantError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
