"""ui.render: how answers become chat markdown and the sources panel (no server, no model)."""
from __future__ import annotations

from assistant.core import LINK_RE
from assistant.markdown import escape
from assistant.models import Answer, Source
from ui import render

TIES = Source(n=1, paper_id="2306.01708", title="Resolving Interference When Merging Models",
              url="https://huggingface.co/papers/2306.01708", code_url="https://github.com/prateeky2806/ties-merging",
              quote="we propose TIES-Merging", score=0.61)
PLEAS = Source(n=2, paper_id="2407.02447", title="PLeaS -- Merging Models with Permutations and Least Squares",
               url="https://huggingface.co/papers/2407.02447", quote="permutation symmetries", score=0.55)


def test_markers_link_to_their_source_and_stay_readable_by_the_assistant():
    text = ("Two papers match; the closest is *Resolving Interference When Merging Models* [1].\n\n"
            "**[1]** [Resolving Interference When Merging Models](https://huggingface.co/papers/2306.01708): "
            "“we propose TIES-Merging” [1]\n\n**[2]** [PLeaS](https://huggingface.co/papers/2407.02447): "
            "“permutation symmetries” [2] and both [1, 2], [1][2], unknown [7]")
    out = render.link_markers(text, [TIES, PLEAS])
    assert "[\\[1\\]](https://huggingface.co/papers/2306.01708)" in out
    assert "**[\\[2\\]](https://huggingface.co/papers/2407.02447)**" in out
    assert "[\\[1\\]](https://huggingface.co/papers/2306.01708)[\\[2\\]](https://huggingface.co/papers/2407.02447)" in out
    assert "unknown \\[7\\]" in out  # no source 7: left as literal text, not a dead link
    # The title link itself is untouched, and Assistant.papers_in_history reads every link.
    assert "[Resolving Interference When Merging Models](https://huggingface.co/papers/2306.01708)" in out
    assert set(LINK_RE.findall(out)) == {TIES.url, PLEAS.url}


def test_escaped_brackets_from_titles_are_not_markers():
    title = escape("A [1] trick <b>bold</b>")
    out = render.link_markers(f"*{title}* [1]", [TIES])
    assert out.startswith(f"*{title}* ")
    assert out.count("](https://") == 1


def test_non_http_link_targets_are_neutralised():
    text = "[click](javascript:alert(1)) and [x](data:text/html,hi) and [ok](https://example.org/a)"
    out = render.link_markers(text, [])
    assert "](javascript:" not in out and "](data:" not in out
    assert "[ok](https://example.org/a)" in out
    assert render.safe_url("javascript:alert(1)") is None
    assert render.safe_url(" https://huggingface.co/papers/1 ") == "https://huggingface.co/papers/1"
    assert render.safe_url('https://x.org/"onmouseover=alert(1)') is None


def test_refusal_is_marked_and_notice_shown():
    answer = Answer(question="q", answer="None of the 294 papers is about “protein folding”.", refused=True,
                    notice="the LLM timed out <b>", mode="extractive-fallback")
    md = render.answer_markdown(answer)
    assert render.REFUSAL_PREFIX in md and md.startswith("*Note: the LLM timed out \\<b\\>*")
    assert "> None of the 294 papers" in md


def test_sources_panel_escapes_everything():
    evil = Source(n=1, paper_id="p<1>", title='<script>window.__pwned=1</script>', url="javascript:alert(1)",
                  code_url="https://github.com/a/b\" onclick=\"x", quote='<img src=x onerror="window.__pwned=2"> ${x} {{y}}',
                  score=0.5)
    html = render.sources_html([evil, TIES], question="<i>q</i>")
    assert "<script" not in html and "<img" not in html and "<i>q" not in html
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in html
    assert "javascript:" not in html and 'onclick="x' not in html
    assert "${" not in html and "{{" not in html
    assert f'href="{TIES.url}"' in html and 'href="https://github.com/prateeky2806/ties-merging"' in html
    assert "score 0.610" in html


def test_refused_and_error_panels_list_no_sources():
    assert "pc-source" not in render.sources_html([TIES], "q", refused=True).replace("pc-sources", "")
    assert "No sources" in render.sources_html([], "q", error=True)


def test_user_echo_is_literal_and_history_gets_the_question_back():
    q = 'what about <img src=x onerror="alert(1)"> and [x](javascript:alert(1)) *stars*?'
    shown = render.echo_question(q)
    assert "<img" not in shown.replace("\\<img", "")
    messages = [{"role": "user", "content": [{"type": "text", "text": shown}]},
                {"role": "assistant", "content": "see [\\[1\\]](https://huggingface.co/papers/2306.01708)"}]
    history = render.history_for_assistant(messages)
    assert history == [{"role": "user", "content": q},
                       {"role": "assistant", "content": "see [\\[1\\]](https://huggingface.co/papers/2306.01708)"}]
    assert render.echo_question("   ") == "*(empty message)*"
    long = render.echo_question("x" * 100_000)
    assert len(long) < 1000 and "100,000 characters" in long


def test_month_choices():
    assert render.month_choices(["2024-05-01", "2023-11", None, "", "2024-05-17", "junk"]) == ["2023-11", "2024-05"]
