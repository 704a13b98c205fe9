"""The code repository (or project page) an abstract points at. Abstracts come from LaTeX, so
URLs arrive wrapped in \\url{}/\\href{}{} debris, glued to trailing punctuation, or without a scheme."""
from __future__ import annotations

import re

# Scheme-full, "www." or bare code-host URLs ("github.com/user/repo"); stop at whitespace and at
# braces, which only LaTeX debris puts there.
_BARE_HOSTS = r"(?:github\.com|gitlab\.com|bitbucket\.org|codeberg\.org)/"
# Quotation marks (straight and typographic) and angle quotes end a URL too: abstracts put URLs in
# quotes, and a glued closing ” made dead links.
_URL = re.compile(r"(?:https?://|(?<![\w/.])www\.|(?<![\w/.])" + _BARE_HOSTS + r")[^\s{}<>\"'\\“”‘’«»‹›]+", re.I)
_REPO_HOSTS = re.compile(r"^https?://(?:www\.)?(github\.com|gitlab\.com|bitbucket\.org|huggingface\.co|codeberg\.org)/", re.I)
# A non-repo URL only counts when its sentence says it is code or a project page.
_CODE_WORDS = re.compile(r"\b(code|codes|source|implementation|repository|repo|project\s+page|project\s+website|github)\b", re.I)
_TRAILING = ".,;:)]}'\"!?~“”‘’«»‹›*"


def clean_url(raw: str) -> str:
    url = raw
    while url and url[-1] in _TRAILING:
        # Keep a closing paren that the URL itself opened (wikipedia-style paths).
        if url[-1] == ")" and url.count("(") >= url.count(")"):
            break
        url = url[:-1]
    if url.lower().startswith("www.") or re.match(_BARE_HOSTS, url, re.I):
        url = "https://" + url
    # "repo.git" and "repo" are the same repository; the bare form is the page a browser shows.
    url = re.sub(r"\.git$", "", url)
    return url


def find_urls(text: str) -> list[tuple[str, str]]:
    """(clean url, sentence-ish context) for every URL in the text, in order, without repeats."""
    seen, out = set(), []
    for m in _URL.finditer(text):
        url = clean_url(m.group(0))
        if "://" not in url or len(url.split("://", 1)[1]) < 4 or url in seen:
            continue
        seen.add(url)
        # The context is the text since the previous sentence end: "Code is available at:" etc.
        before = text[max(0, m.start() - 200): m.start()]
        before = re.split(r"[.!?]\s+(?=[A-Z(])", before)[-1]
        out.append((url, before))
    return out


def _is_repo(url: str) -> bool:
    m = _REPO_HOSTS.match(url)
    if not m:
        return False
    path = url[m.end():].strip("/")
    if m.group(1).lower() == "huggingface.co" and path.startswith("papers/"):
        return False  # a paper page, not code
    return bool(path)


def find_code_url(abstract: str) -> str | None:
    urls = find_urls(abstract)
    for url, _ in urls:
        if _is_repo(url):
            return url
    for url, context in urls:
        if _CODE_WORDS.search(context):
            return url
    return None
