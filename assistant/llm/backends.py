"""The two LLM backends behind one small interface, and the failure handling they share.

`Backend.stream_chat(messages, max_tokens, temperature)` yields text deltas. Every failure
(connection refused, timeout, HTTP error, malformed response, model that will not load) comes out
as an `LLMFailure` whose `reason` is one readable line; nothing else escapes. Generation runs in a
worker thread so a stalled server or model can never hold the caller longer than the timeout
between two pieces of output."""
from __future__ import annotations

import errno
import logging
import queue
import threading
from pathlib import Path
from typing import Iterator

log = logging.getLogger(__name__)

_DONE = object()


class LLMFailure(Exception):
    """The model could not produce an answer. `reason` reads after the backend label, e.g.
    "unreachable (connection refused)"."""

    def __init__(self, label: str, reason: str):
        super().__init__(f"{label} {reason}")
        self.label = label
        self.reason = reason

    @property
    def notice(self) -> str:
        return f"{self.label} {self.reason}; showing the extractive answer"


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _chain(exc: BaseException) -> list[BaseException]:
    out, seen = [], set()
    while exc is not None and id(exc) not in seen:
        out.append(exc)
        seen.add(id(exc))
        exc = exc.__cause__ or exc.__context__
    return out


def describe(exc: BaseException, timeout_s: float) -> str:
    """One readable line for what went wrong talking to the model."""
    names = [type(e).__name__ for e in _chain(exc)]
    texts = " ".join(str(e) for e in _chain(exc)).lower()
    status = next((getattr(e, "status_code", None) for e in _chain(exc) if getattr(e, "status_code", None)), None)
    if isinstance(exc, LLMFailure):
        return exc.reason
    if any("Timeout" in n for n in names) or "timed out" in texts:
        return f"did not answer within {timeout_s:g} s"
    if status is not None:
        body = getattr(exc, "message", "") or str(exc)
        return f"returned HTTP {status} ({_short(body, 60)})"
    refused = any(isinstance(e, ConnectionRefusedError) or getattr(e, "errno", None) == errno.ECONNREFUSED
                  for e in _chain(exc)) or "connection refused" in texts or "connect call failed" in texts
    if refused:
        return "unreachable (connection refused)"
    if any(n in ("ConnectError", "ConnectionError", "APIConnectionError", "gaierror") for n in names):
        return f"unreachable ({_short(str(_chain(exc)[-1]) or names[-1], 60)})"
    if any(n in ("RemoteProtocolError", "ReadError", "WriteError", "ProtocolError", "ConnectionResetError",
                 "BrokenPipeError", "IncompleteRead") for n in names) or "peer closed" in texts:
        return "dropped the connection mid-answer"
    return f"sent a malformed response ({names[0]}: {_short(str(exc), 60)})"


def pump(make_iter, label: str, timeout_s: float, reported_s: float | None = None) -> Iterator[str]:
    """Runs `make_iter()` (a callable returning an iterator of text deltas) in a daemon thread and
    yields its items; raises LLMFailure when it fails or produces nothing new for `timeout_s`
    (reported as `reported_s`, the configured timeout, when the pump is only the backstop)."""
    reported_s = timeout_s if reported_s is None else reported_s
    q: queue.Queue = queue.Queue()
    stop = threading.Event()

    def work():
        it = None
        try:
            it = make_iter()
            for item in it:
                if stop.is_set():
                    break
                q.put(item)
            q.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which turns it into one line
            q.put(exc)
        finally:
            close = getattr(it, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:
                    pass

    thread = threading.Thread(target=work, name="paperchat-llm", daemon=True)
    thread.start()
    try:
        while True:
            try:
                item = q.get(timeout=timeout_s)
            except queue.Empty:
                raise LLMFailure(label, f"did not answer within {reported_s:g} s") from None
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                log.debug("LLM call failed", exc_info=item)
                raise LLMFailure(label, describe(item, reported_s)) from None
            yield item
    finally:
        stop.set()  # the worker drops the rest of the stream at its next item


class OpenAIBackend:
    """Any OpenAI-compatible chat endpoint, through llama-index's OpenAILike."""

    def __init__(self, settings):
        self.base_url = str(settings.llm_base_url).rstrip("/")
        self.label = f"LLM at {self.base_url}"
        self.settings = settings
        self._llm = None
        self._lock = threading.Lock()
        try:  # import and build the client now: importing the OpenAI stack takes seconds
            self._client()
        except Exception:  # reported, as a notice, when a question is asked
            log.debug("could not prepare the OpenAI client", exc_info=True)

    def _client(self):
        with self._lock:
            if self._llm is None:
                from llama_index.llms.openai_like import OpenAILike

                s = self.settings
                self._llm = OpenAILike(
                    model=s.llm_model, api_base=self.base_url, api_key=s.llm_api_key or "no-key",
                    is_chat_model=True, is_function_calling_model=False, context_window=4096,
                    max_tokens=None, temperature=s.llm_temperature, timeout=s.llm_timeout_s,
                    max_retries=0, reuse_client=True,
                )
            return self._llm

    def stream_chat(self, messages: list[dict], max_tokens: int, temperature: float) -> Iterator[str]:
        def make():
            from llama_index.core.llms import ChatMessage

            llm = self._client()
            chat = [ChatMessage(role=m["role"], content=m["content"]) for m in messages]
            chunks = 0
            for chunk in llm.stream_chat(chat, max_tokens=max_tokens, temperature=temperature):
                chunks += 1
                delta = chunk.delta
                if delta is None:
                    continue
                if not isinstance(delta, str):
                    raise TypeError(f"stream chunk delta is {type(delta).__name__}, not text")
                if delta:
                    yield delta
            if not chunks:  # e.g. an HTML page or plain JSON where an event stream belongs
                raise ValueError("no completion chunks in the response")

        # The HTTP client times out on its own; the pump's limit is the backstop (a server that
        # keeps the connection busy without sending a token).
        timeout = self.settings.llm_timeout_s
        yield from pump(make, self.label, timeout + 1.0, reported_s=timeout)


class LlamaCppBackend:
    """A local GGUF file in this process, through llama-index's LlamaCPP. The prompt is rendered
    with the chat template stored in the GGUF file (LlamaCPP's default is a Llama-2 format)."""

    _models: dict = {}  # (path, n_ctx) -> LlamaCPP, shared: loading costs memory and seconds
    _models_lock = threading.Lock()

    def __init__(self, settings, n_ctx: int = 2048):
        self.settings = settings
        path = settings.llm_model_path
        self.path = Path(path).expanduser() if path else None
        self.label = f"local model {self.path.name if self.path else '(none configured)'}"
        self.n_ctx = n_ctx
        self._run_lock = threading.Lock()  # one generation at a time: a llama.cpp context is not thread-safe

    def _load(self):
        if self.path is None:
            raise LLMFailure(self.label, "not set (give --model FILE.gguf or PAPERCHAT_LLM_MODEL_PATH)")
        if not self.path.is_file():
            raise LLMFailure(self.label, f"not found at {self.path}")
        key = (str(self.path.resolve()), self.n_ctx)
        with self._models_lock:
            if key in self._models:
                return self._models[key]
            try:
                from llama_index.llms.llama_cpp import LlamaCPP
            except ImportError:
                raise LLMFailure(self.label, "needs llama-cpp-python: pip install 'paperchat[llm]'") from None
            holder: dict = {}
            try:
                llm = LlamaCPP(
                    model_path=str(self.path), temperature=self.settings.llm_temperature,
                    max_new_tokens=self.settings.llm_max_tokens, context_window=self.n_ctx,
                    model_kwargs={"n_threads": 2, "verbose": False}, verbose=False,
                    messages_to_prompt=lambda messages: holder["render"](messages),
                    completion_to_prompt=lambda text: text,
                )
            except LLMFailure:
                raise
            except Exception as exc:
                raise LLMFailure(self.label, f"failed to load ({_short(str(exc), 60)})") from None
            holder["render"] = _template_renderer(llm._model)
            self._models[key] = llm
            return llm

    def stream_chat(self, messages: list[dict], max_tokens: int, temperature: float) -> Iterator[str]:
        timeout = self.settings.llm_timeout_s

        def make():
            if not self._run_lock.acquire(timeout=timeout):
                raise LLMFailure(self.label, f"is busy with another answer (waited {timeout:g} s)")
            try:
                from llama_index.core.llms import ChatMessage

                llm = self._load()
                # LlamaCPP reads generation options from the instance only; the run lock makes this safe.
                llm.generate_kwargs.update({"max_tokens": max_tokens, "temperature": temperature})
                chat = [ChatMessage(role=m["role"], content=m["content"]) for m in messages]
                for chunk in llm.stream_chat(chat):
                    if chunk.delta:
                        yield chunk.delta
            finally:
                self._run_lock.release()

        yield from pump(make, self.label, timeout)


def _template_renderer(model):
    """messages -> prompt text, with the GGUF's own chat template when it has one."""
    from llama_cpp.llama_chat_format import Jinja2ChatFormatter

    metadata = getattr(model, "metadata", {}) or {}
    template = metadata.get("tokenizer.chat_template")

    def token_text(key: str) -> str:
        try:
            tid = int(metadata[key])
            return model._model.token_get_text(tid)
        except Exception:
            return ""

    bos, eos = token_text("tokenizer.ggml.bos_token_id"), token_text("tokenizer.ggml.eos_token_id")
    formatter = Jinja2ChatFormatter(template=template, eos_token=eos, bos_token=bos) if template else None

    def render(messages) -> str:
        dicts = [{"role": getattr(m.role, "value", m.role), "content": m.content or ""} for m in messages]
        if formatter is None:
            body = "\n\n".join(f"{d['role'].capitalize()}: {d['content']}" for d in dicts)
            return body + "\n\nAssistant:"
        prompt = formatter(messages=dicts).prompt
        # llama.cpp adds BOS itself when tokenising; do not send it twice.
        return prompt[len(bos):] if bos and prompt.startswith(bos) else prompt

    return render


def make_backend(settings):
    if settings.answerer == "llamacpp":
        return LlamaCppBackend(settings)
    return OpenAIBackend(settings)
