"""Corpus text is inert and the server is hardened (issue 9), on a real `paperchat` UI server over
a planted corpus: titles and abstracts carrying markdown images, raw HTML, javascript: and data:
URLs. Checked in real Chromium (no request leaves the page, no element made from corpus text),
in `ask --json`, and at the HTTP level (security headers on the page, config and API routes,
CORS, closed upload route, body cap, no echo, no server banner)."""
from __future__ import annotations

import http.client
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request

import pytest

from assistant.settings import Settings

REMOTE = "http://127.0.0.1:9"  # nothing listens: a request there is a leak, never a page asset
PLANTED = [
    {"title": f"Tracking pixels ![img]({REMOTE}/title.png) in image captioning",
     "abstract": f"We caption images with a tracking model. ![pixel]({REMOTE}/abs.png) "
                 "<img src=x onerror=\"window.__pwned=1\"> Captioning with tracking improves recall. "
                 "<iframe src=\"" + REMOTE + "/frame\"></iframe> <b id=\"planted-bold\">bold</b>",
     "url": "javascript:window.__pwned=2", "arxiv_id": "2301.11111"},
    {"title": "Data links <a href=\"data:text/html,<script>alert(1)</script>\">x</a> for captioning",
     "abstract": "Caption generation with data links. [click](data:text/html;base64,PHNjcmlwdD4=) "
                 f"<link rel=stylesheet href=\"{REMOTE}/x.css\"> Tracking captions are evaluated.",
     "url": "data:text/html,<script>alert(1)</script>"},
    {"title": "Ordinary image captioning with transformers",
     "abstract": "A transformer captions images. It is evaluated on standard captioning benchmarks.",
     "arxiv_id": "2301.22222"},
]
QUESTION = "which papers study image captioning with tracking?"


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    from ingest.pipeline import run_ingest
    from ui.testing import shared_server

    tmp = tmp_path_factory.mktemp("planted")
    corpus = tmp / "planted.jsonl"
    corpus.write_text("".join(json.dumps(r) + "\n" for r in PLANTED), encoding="utf-8")
    settings = Settings(_env_file=None, index_dir=tmp / "index", chroma_url=None, data_dir=tmp)
    report = run_ingest([corpus], settings, progress=False)
    assert sum("is not an http(s) link" in w for w in report.warnings) == 2  # both bad urls dropped
    return settings, shared_server(settings)


def _get(url: str, method: str = "GET", data: bytes | None = None, headers: dict | None = None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


SECURITY_HEADERS = ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options", "Referrer-Policy")


@pytest.mark.parametrize("route,method,body", [
    ("", "GET", None), ("config", "GET", None), ("gradio_api/info", "GET", None),
    ("gradio_api/call/ask", "POST", json.dumps({"data": [QUESTION, [], 0, "", ""]}).encode()),
])
def test_security_headers_on_page_config_and_api(planted, route, method, body):
    _, ui = planted
    status, headers, _ = _get(ui.url + route, method, body, {"Content-Type": "application/json"} if body else {})
    assert status == 200
    lower = {k.lower(): v for k, v in headers.items()}
    for name in SECURITY_HEADERS:
        assert name.lower() in lower, (route, name)
    assert "frame-ancestors 'none'" in lower["content-security-policy"]
    assert "img-src 'self' data: blob:" in lower["content-security-policy"]
    assert lower["x-content-type-options"] == "nosniff" and lower["x-frame-options"] == "DENY"
    assert "server" not in lower  # no version banner


def test_cors_only_for_the_page_itself(planted):
    _, ui = planted
    own = ui.url.rstrip("/")
    status, headers, _ = _get(ui.url + "config", headers={"Origin": "http://evil.example"})
    lower = {k.lower(): v for k, v in headers.items()}
    assert "access-control-allow-origin" not in lower and "access-control-allow-credentials" not in lower
    status, _, _ = _get(ui.url + "gradio_api/call/ask", "OPTIONS",
                        headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"})
    assert status == 403
    status, _, _ = _get(ui.url + "gradio_api/call/ask", "POST", b'{"data": ["x"]}',
                        {"Origin": "http://evil.example", "Content-Type": "application/json"})
    assert status == 403
    status, headers, _ = _get(ui.url + "config", headers={"Origin": own})
    assert status == 200 and headers.get("access-control-allow-origin") == own


def test_unused_routes_closed_and_big_bodies_refused_without_echo(planted):
    _, ui = planted
    boundary = "x1x"
    upload = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"files\"; filename=\"a.html\"\r\n"
              f"Content-Type: text/html\r\n\r\n<script>1</script>\r\n--{boundary}--\r\n").encode()
    status, _, _ = _get(ui.url + "gradio_api/upload", "POST", upload,
                        {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert status == 404
    # A 20 MB question: refused from its Content-Length, before the body is read or parsed.
    host, port = ui.url.split("//")[1].rstrip("/").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    conn.putrequest("POST", "/gradio_api/call/ask")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(20_000_000))
    conn.endheaders(b'{"data": ["' + b"Q" * 65536)
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    assert resp.status == 413 and len(body) < 500 and b"QQQQ" not in body


def test_long_question_through_the_api_is_refused_without_echo(planted):
    from gradio_client import Client

    _, ui = planted
    client = Client(ui.url, verbose=False)
    out = client.predict("why " * 25_000, [], 0, "", "", api_name="/ask")
    text = json.dumps(out)
    assert out["error"] and "characters long" in out["error"] and "\n" not in out["error"]
    assert len(text) < 5_000 and "why why why why why why" not in text


@pytest.mark.browser
def test_planted_corpus_is_inert_in_chromium(planted):
    from playwright.sync_api import sync_playwright

    from ui.testing import launch_chromium

    _, ui = planted
    with sync_playwright() as p:
        browser = launch_chromium(p)
        page = browser.new_page()
        requests: list[str] = []
        page.on("request", lambda r: requests.append(r.url))
        page.goto(ui.url, wait_until="load")
        box = page.locator("#pc-question textarea").first
        box.wait_for(timeout=120_000)
        box.fill(QUESTION)
        box.press("Enter")
        page.locator("#pc-sources").get_by_text("Tracking pixels", exact=False).first.wait_for(timeout=120_000)
        page.wait_for_timeout(1500)
        html = page.content()
        state = page.evaluate("""() => ({
            pwned: window.__pwned || null,
            planted: document.querySelectorAll('#planted-bold, iframe, link[href*="127.0.0.1:9"]').length,
            images: [...document.querySelectorAll('img')].map(i => i.getAttribute('src')).filter(s => s && !s.startsWith('data:') && !s.startsWith('/') && !s.startsWith(location.origin)),
            links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')).filter(h => /^(javascript|data):/i.test(h)),
        })""")
        browser.close()
    leaks = [u for u in requests if not u.startswith(ui.url.rstrip("/")) and not u.startswith("data:")]
    assert leaks == [], leaks  # no request leaves the page
    assert state == {"pwned": None, "planted": 0, "images": [], "links": []}, state
    assert "Tracking pixels" in html  # the planted paper is shown, as text


def test_planted_corpus_is_inert_in_ask_json(planted):
    settings, _ = planted
    env = dict(os.environ, PAPERCHAT_INDEX_DIR=str(settings.index_dir), HF_HUB_OFFLINE="1")
    env.pop("PAPERCHAT_CHROMA_URL", None)
    done = subprocess.run([sys.executable, "-m", "ui.cli", "ask", "--json", QUESTION], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    answer = json.loads(done.stdout)
    assert answer["sources"], answer
    for source in answer["sources"]:
        for key in ("url", "code_url"):
            assert source.get(key) is None or source[key].startswith(("https://", "http://")), source
        assert "javascript:" not in source["url"] and "data:" not in source["url"]
    # In the markdown answer corpus text is escaped: no image, link or tag it could start.
    text = answer["answer"]
    assert "Tracking pixels" in text
    assert re.search(r"(?<!\\)<[a-zA-Z/]", text) is None, text  # every "<" of corpus text is "\<"
    assert re.search(r"!\[", text) is None, text  # "![" only as "!\["
    assert re.search(r"(?<!\\)\]\((?:javascript|data):", text) is None, text


def test_malformed_payloads_are_not_copied_whole_into_the_log(planted, tmp_path):
    """A real `paperchat ui` process: a malformed 500 kB API payload leaves a few kB of log."""
    import socket
    import time

    settings, _ = planted
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PAPERCHAT_INDEX_DIR=str(settings.index_dir), HF_HUB_OFFLINE="1",
               GRADIO_ANALYTICS_ENABLED="False")
    env.pop("PAPERCHAT_CHROMA_URL", None)
    log = tmp_path / "ui.log"
    with open(log, "w") as sink:
        proc = subprocess.Popen([sys.executable, "-m", "ui.cli", "ui", "--port", str(port)], env=env, cwd=tmp_path,
                                stdout=sink, stderr=subprocess.STDOUT)
    try:
        url = f"http://127.0.0.1:{port}/"
        for _ in range(240):  # serving once the page answers
            try:
                if _get(url + "config")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.5)
        payload = json.dumps({"data": [{"x": "A" * 250_000}, "B" * 200_000]}).encode()
        status, _, body = _get(url + "gradio_api/call/ask", "POST", payload, {"Content-Type": "application/json"})
        assert status == 200, body[:200]
        event = json.loads(body)["event_id"]
        _get(url + f"gradio_api/call/ask/{event}")
        time.sleep(1)
    finally:
        proc.terminate()
        proc.wait(timeout=60)
    text = log.read_text(errors="replace")
    assert "characters, cut]" in text and len(text) < 50_000, len(text)
