"""Failure paths of the OpenAI-compatible backend against real sockets on loopback (no model
needed): nothing listening, a server that accepts and never answers, HTTP errors and malformed
responses. Each must fall back to the extractive answer with a one-line notice naming the URL,
quickly, with no traceback."""
from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from assistant.core import Assistant
from assistant.llm.backends import LLMFailure, OpenAIBackend, pump

QUESTION = "which papers merge fine-tuned models without retraining?"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def extractive_answer(bundled_index):
    return Assistant(bundled_index).ask(QUESTION)


def llm_assistant(settings, url: str, **extra) -> Assistant:
    return Assistant(settings.model_copy(update={"answerer": "openai", "llm_base_url": url, **extra}))


def ask_timed(assistant, question=QUESTION, history=None):
    """The answers, and the seconds the answerer took (retrieval excluded: on a busy machine it
    alone can take seconds; the failure handling is what is timed here)."""
    condense_s = []
    condense = assistant.answerer.condense

    def timed_condense(*args):
        t = time.perf_counter()
        try:
            return condense(*args)
        finally:
            condense_s.append(time.perf_counter() - t)

    assistant.answerer.condense = timed_condense
    answers = list(assistant.stream(question, history))
    return answers, answers[-1].timings_ms["answer_ms"] / 1000 + sum(condense_s)


def assert_fallback(answers, extractive_answer, url, phrase):
    final = answers[-1]
    assert final.mode == "extractive-fallback"
    assert final.answer == extractive_answer.answer
    assert final.notice.startswith(f"LLM at {url} ") and phrase in final.notice, final.notice
    assert final.notice.endswith("; showing the extractive answer") and "\n" not in final.notice
    assert "Traceback" not in final.notice


def test_unreachable_url_falls_back(bundled_index, extractive_answer):
    url = f"http://127.0.0.1:{free_port()}/v1"  # nothing listens there
    answers, seconds = ask_timed(llm_assistant(bundled_index, url))
    assert_fallback(answers, extractive_answer, url, "unreachable (connection refused)")
    assert answers[-1].notice == f"LLM at {url} unreachable (connection refused); showing the extractive answer"
    assert seconds < 5


@pytest.fixture
def silent_server():
    """Accepts connections and never answers."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(16)
    held, stop = [], threading.Event()

    def accept():
        server.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = server.accept()
                held.append(conn)
            except OSError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/v1"
    stop.set()
    thread.join(2)
    for conn in held:
        conn.close()
    server.close()


def test_timeout_falls_back(bundled_index, extractive_answer, silent_server):
    answers, seconds = ask_timed(llm_assistant(bundled_index, silent_server, llm_timeout_s=2))
    assert_fallback(answers, extractive_answer, silent_server, "did not answer within 2 s")
    assert 1.5 < seconds < 6, seconds  # one timeout, no retries


class _Handler(BaseHTTPRequestHandler):
    mode = "500"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        if self.mode == "500":
            body = b'{"error": {"message": "model crashed", "type": "server_error"}}'
            self.send_response(500)
        elif self.mode == "404":
            body = b'{"error": {"message": "no such route"}}'
            self.send_response(404)
        elif self.mode == "html":
            body = b"<html>hello, this is not an API</html>"
            self.send_response(200)
        else:  # a stream whose events are not JSON
            body = b"data: {not json\n\ndata: [DONE]\n\n"
            self.send_response(200)
            self.send_header("content-type", "text/event-stream")
        if self.mode != "sse":
            self.send_header("content-type", "application/json" if self.mode != "html" else "text/html")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.parametrize("mode,phrase", [
    ("500", "returned HTTP 500"),
    ("404", "returned HTTP 404"),
    ("html", "malformed response"),
    ("sse", "malformed response"),
])
def test_http_errors_and_malformed_responses_fall_back(bundled_index, extractive_answer, mode, phrase):
    handler = type("H", (_Handler,), {"mode": mode})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        answers, seconds = ask_timed(llm_assistant(bundled_index, url, llm_timeout_s=5))
        assert_fallback(answers, extractive_answer, url, phrase)
        assert seconds < 10
    finally:
        server.shutdown()
        server.server_close()


def test_condense_failure_falls_back_once(bundled_index, extractive_answer):
    url = f"http://127.0.0.1:{free_port()}/v1"
    assistant = llm_assistant(bundled_index, url)
    history = [{"role": "user", "content": QUESTION},
               {"role": "assistant", "content": extractive_answer.answer}]
    answers, seconds = ask_timed(assistant, "where is the code of the second one?", history)
    final = answers[-1]
    assert final.mode == "extractive-fallback" and url in final.notice
    # The extractive follow-up resolution still ran: the answer is about the previous answer's papers.
    assert set(s.paper_id for s in final.sources) <= set(s.paper_id for s in extractive_answer.sources)
    assert seconds < 10


def test_pump_never_hangs():
    def stalled():
        yield "a"
        time.sleep(30)
        yield "b"

    got, t = [], time.perf_counter()
    with pytest.raises(LLMFailure) as info:
        for item in pump(stalled, "LLM at x", 0.5):
            got.append(item)
    assert got == ["a"] and time.perf_counter() - t < 3
    assert info.value.notice == "LLM at x did not answer within 0.5 s; showing the extractive answer"

    def broken():
        yield "a"
        raise ValueError("bad chunk")

    with pytest.raises(LLMFailure, match="malformed response"):
        list(pump(broken, "LLM at x", 1))


def test_openai_backend_label_strips_trailing_slash(bundled_index):
    backend = OpenAIBackend(bundled_index.model_copy(update={"llm_base_url": "http://127.0.0.1:9/v1/"}))
    assert backend.label == "LLM at http://127.0.0.1:9/v1"
