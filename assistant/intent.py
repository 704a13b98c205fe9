"""What kind of question is this? Plain patterns: the answer shape depends on them, not the evidence."""
from __future__ import annotations

import re
from dataclasses import dataclass

LIST_RE = re.compile(
    r"^\s*(which|what|list|find|show|are there|is there any|any|give me)\b.*\b(papers|works|work|studies|"
    r"approaches|methods|articles|research)\b|\b(papers|works|studies) (that|which|on|about|using|proposing)\b",
    re.I,
)
CODE_RE = re.compile(
    r"\b(code|repo|repository|github|gitlab|implementation|source|project page|checkpoints?|hosted|"
    r"download|released?|open[- ]sourced?)\b", re.I
)
DETAIL_RE = re.compile(
    r"\b(how (many|much|fast|large|big|accurate|long|well|often)|by how much|accuracy|score|scores|speed-?up|"
    r"faster|slower|times|percent|percentage|auc|c-index|f1|fid|bleu|psnr|map|top-1|error rate|"
    r"benchmarks?|datasets?|evaluated|evaluate|tested|gpu|hours|days|parameters|compute|cost|size|"
    r"number of|what (result|results|improvement|gain|gains))\b",
    re.I,
)
# What titles and abstracts cannot tell. Kept narrow so "citation recommendation" stays a topic.
META_PATTERNS = {
    "authors": r"\bwho (wrote|authored|are the authors|is the author|proposed|created|published)\b|"
    r"\bauthors? (of|behind)\b|\bwritten by\b|\bwhich (authors|researchers|people)\b|\bfirst author\b",
    "affiliations": r"\baffiliat|\b(which|what) (university|universities|institution|institutions|lab|labs|"
    r"company|companies|country|countries)\b",
    "venues": r"\b(which|what) (venue|conference|journal|workshop)\b|\bpublished (in|at)\b|"
    r"\baccepted (to|at|by)\b|\b(award|best paper)\b",
    "citation counts": r"\b(most|how many|number of|highest) (citations|cited|times cited)\b|\bcitation counts?\b|"
    r"\bmost[- ]cited\b|\bh-index\b|\bmost (influential|popular)\b",
}
FOLLOWUP_RE = re.compile(
    r"\b(those|these|them|they|their|its|it|this (paper|one|work|method)|that (paper|one|work|method)|"
    r"the (first|second|third|fourth|fifth|last|above|previous|same) (one|paper|papers|work)?|"
    r"which of|of those|same paper|the latter|the former|above)\b",
    re.I,
)
SUBSET_RE = re.compile(r"\b(which|what|how many|any|do|does|are|is) (of|one of|among)? ?(those|these|them|they)\b|"
                       r"\b(of|among) (those|these|them)\b", re.I)
ORDINALS = {"first": 0, "second": 1, "third": 2, "fourth": 3, "fifth": 4, "last": -1, "former": 0, "latter": -1}
ORDINAL_RE = re.compile(r"\b(first|second|third|fourth|fifth|last|former|latter)\b", re.I)

# Phrases that carry no topic: stripped before retrieval so "which papers" does not match every paper.
BOILERPLATE_RE = re.compile(
    r"^\s*(and\s+|so\s+|ok\s+)?(please\s+)?(can you\s+|could you\s+)?(tell me\s+)?("
    r"(which|what|how many|any) (one )?(of|among) (those|these|them)( papers| works| ones)?( is| are| do| does| did)?|"
    r"(do|does|are|is) (any )?(of )?(those|these|they|them)( papers)?|(which|what) (papers|works|work|studies|research|"
    r"articles|methods|approaches)( is there)?( are there)?( in the corpus)?( do| that| which)?|"
    r"(are|is) there (any )?(papers?|works?|studies|research)( that| on| about)?|"
    r"(find|list|show)( me)?( all)?( the)? (papers|works|studies)( that| on| about)?|"
    r"(is there|do you have) a paper (that|which|on|about)|a paper (that|which)|the paper (that|which)|"
    r"which paper|what paper)\s*",
    re.I,
)


@dataclass(frozen=True)
class Intent:
    wants_list: bool
    wants_code: bool
    wants_detail: bool
    meta: str | None  # which missing field the question asks about, if any
    followup: bool
    subset: bool  # "which of those ...": filter the previous answer's papers
    ordinal: int | None  # "the second one" -> 1
    topic: str  # the question with its boilerplate removed


def topic_of(question: str) -> str:
    text = BOILERPLATE_RE.sub("", question.strip(), count=1).strip()
    return text.rstrip("?.! ") or question.strip().rstrip("?.! ")


def classify(question: str, has_history: bool) -> Intent:
    q = question.strip()
    meta = next((name for name, pat in META_PATTERNS.items() if re.search(pat, q, re.I)), None)
    followup = has_history and bool(FOLLOWUP_RE.search(q))
    ordinal_match = ORDINAL_RE.search(q) if followup else None
    return Intent(
        wants_list=bool(LIST_RE.search(q)),
        wants_code=bool(CODE_RE.search(q)),
        wants_detail=bool(DETAIL_RE.search(q)),
        meta=meta,
        followup=followup,
        subset=followup and bool(SUBSET_RE.search(q)),
        ordinal=ORDINALS[ordinal_match.group(1).lower()] if ordinal_match else None,
        topic=topic_of(q),
    )
