"""What does the question ask for? Grammar, not wording: what kind of thing is asked (a number, a
dataset, code, two things compared), whether it points back at the previous answer, and which
dates bound it. How many papers the answer cites is decided later, from the evidence."""
from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from .timewindow import Window, parse_window
from .words import FUNCTION_WORDS, REQUEST_WORDS, _one_edit, content_words, name_like, words, written_as_names, zipf

# A question about code availability. Words that only ever mean that count alone; words that
# are also research topics ("merging fine-tuned checkpoints", "source domain", "error-correcting
# codes", "an efficient implementation", "code generation") count only beside an availability word.
CODE_RE = re.compile(
    r"\b(code(?! (?:generation|completion|synthesis|search|summari[sz]ation|review|repair|translation|"
    r"understanding|models?|llms?|books?)\b)|repo|repos|repository|repositories|github|gitlab|project page|"
    r"open[- ]sourced?|released? (?:the |their |its )?(?:code|model|weights|checkpoints?))\b", re.I
)
WEAK_CODE_RE = re.compile(r"\b(codes|implementations?|source|checkpoints?|weights)\b", re.I)
AVAILABLE_RE = re.compile(r"\b(available|availability|releases?d?|releasing|public|publicly|download\w*|links?|urls?|"
                          r"shared?|provided?|open|official|find|where (?:is|are|can|could|do)|"
                          r"(?:has|have|is there|are there) (?:an? |any )?(?:\w+ )?implementations?)\b", re.I)


# A paper named by its title: "the Attention Is All You Need paper" (three or more capitalised
# words before "paper"), or a quoted title.
_SMALL = r"(?:is|are|all|of|for|a|an|the|and|with|to|in|on|via|from|by|you|we|do|does|not)"
TITLE_RE = re.compile(rf"\b((?:[A-Z][\w'’\-]*\s+(?:{_SMALL}\s+)*){{2,}}[A-Z][\w'’\-]*)\s+paper\b|"
                      r"[“\"]([^”\"]{12,200})[”\"]")


def named_title(question: str) -> str:
    """The title a question names, or "" (a quoted phrase counts when written like a title: three or
    more capitalised words, so "the term “mixture of experts”" names no paper)."""
    for m in TITLE_RE.finditer(question):
        title = (m.group(1) or m.group(2)).strip()
        lead = title.split()
        while lead and lead[0].lower() in FUNCTION_WORDS:  # "In the Merge Then Compress paper"
            lead.pop(0)
        title = " ".join(lead)
        if len(re.findall(r"(?<![\w'’-])[A-Z]", title)) >= 3 and len(content_words(title)) >= 2:
            return title
    return ""


def asks_for_code(text: str) -> bool:
    return bool(CODE_RE.search(text) or WEAK_CODE_RE.search(text) and AVAILABLE_RE.search(text))


def without_code_words(text: str) -> str:
    """What a code question asks about, once its code words are set aside."""
    for pattern in (CODE_RE, WEAK_CODE_RE, AVAILABLE_RE):
        text = pattern.sub(" ", text)
    return text


# What kind of fact is asked for. The type decides which sentence holds the answer.
# Things measured in numbers that a "what X does it ..." question asks the value of.
# ("rates", "ratios": any rate asked is a number, "what noise rates did they test", "what learning
# rate", unless more of a name follows: "which click-through rate prediction papers")
QUANTITY_NOUNS = (r"bit[- ]?widths?|bits|learning rates?|frame rates?|compression ratios?|"
                  r"(?:rates?|ratios?)(?=\s+(?:did|does|do|is|was|were|are|of|they|it|for)\b|\s*[?.!,]*\s*$)|"
                  r"batch sizes?|resolutions?|epochs|(?:sampling |denoising )?steps|fps|throughput|latency|parameter counts?")
NUMBER_RE = re.compile(
    r"\b(how (many|much|fast|large|big|small|accurate|long|well|often|quickly)|by how much|what (?:is|was|were|are) the "
    # "what is the imagenet top-1 acc of X": a metric's value, whatever dataset words precede it
    r"(?:(?!(?:to|of|for|in|on|with|way|best|main)\b)[\w\-]+ ){0,2}"
    r"(?:accuracy|acc|top-?1|top-?5|score|speed(?! up)|size|number|cost|error|gain|improvement|speed-?up)\b|"
    r"(?:what|which) (?:[\w\-]+ ){0,2}(?:accuracy|acc|top-?1|score|speed-?up|"
    r"c-index|auc|f1|fid|bleu|psnr|error|percentage|improvement|gains?|" + QUANTITY_NOUNS + r")|number of|how (?:much|many) times|"
    # "what FPR95 does their network reach?": a value the method reaches, whatever the metric is called
    r"(?:what|which) (?!papers?\b|works?\b|methods?\b|ones?\b)[\w\-]+(?: [\w\-]+){0,2} (?:does|do|did) [^?]{1,80}?"
    r"\b(?:reach|achieve|attain|obtain|score|get|gets|got|report|reports)\b|"
    # "which of them reports the highest accuracy?", "which one has the lowest FID?": a metric's value
    r"(?:what|which) (?!papers?\b|works?\b|methods?\b|studies\b|approaches\b)[^?]{0,40}?\b(?:reports?|gets?|got|"
    r"achieves?|reach(?:es)?|has|have|attains?|obtains?|shows?) (?:the |an? )?(?:[\w\-]+ )?(?:accuracy|score|c-index|"
    r"auc|f1|fid|bleu|psnr|error|error rate|speed-?up|map|miou|top-1|(?-i:[A-Z][A-Za-z0-9\-]*[A-Z]\w*))\b|"
    # "which one is fastest?", "which of them is the most accurate?"
    r"(?:which|what) (?:one|of (?:them|those|these))\b[^?]{0,20}?\b(?:is|was|are|runs?) (?:the )?(?:fastest|quickest|"
    r"most accurate|most efficient|smallest|lightest|cheapest)\b)\b",
    re.I,
)
# Weaker hints that a fact is wanted: they favour sentences with numbers without changing the answer's shape.
DETAIL_HINT_RE = re.compile(
    r"\b(accuracy|score|scores|speed-?ups?|faster|slower|percent|auc|c-index|f1|fid|bleu|psnr|top-1|error rate|"
    r"gpus?|hours|days|parameters|params?|compute|cost|latency|run ?time|memory|flops|results?|improvements?|gains?)\b", re.I)
DATASET_RE = re.compile(
    r"\b(which|what) (?:datasets?|benchmarks?|data|corpora|tasks)\b|"
    # "what was it trained on?"; not "... higher resolution than a model was trained on" (a theme)
    r"\b(?:which|what|where)\b(?:(?!\b(?:than|that|which)\b)[^?]){0,50}\b(?:evaluated|tested|benchmarked|validated|trained) "
    r"(?:on|with)\b|\bon (?:which|what) (?:datasets?|benchmarks?)\b|\bdatasets?\b|\bbenchmarks?\b",
    re.I,
)
NAME_RE = re.compile(
    r"\b(which|what) (?:model|models|method|methods|backbone|backbones|architecture|architectures|baseline|baselines|"
    r"formats?|metrics?|languages?|algorithms?|loss(?:es)?|encoders?|decoders?)\b",
    re.I,
)
# The kind of quantity a number question wants: a sentence with that kind of number answers it.
UNIT_QUESTIONS = [  # first match wins: "how long ... to train" is compute, "how fast on a GPU" a time
    ("speedup", r"\bhow much (?:faster|quicker)|\b(?:fastest|quickest)\b|\bspeed-?ups?\b|\btimes faster\b|"
                # "by how much is it faster", not "by how much did it beat pissa" (a margin, any unit)
                r"\bby how much\b.{0,40}\b(?:faster|quicker|speed|accelerat)|"
                # "how fast is it compared to pytorch": against something, the answer is a ratio
                r"\bhow (?:fast|quick)\b.{0,40}\b(?:compared|than|vs\.?|versus|relative to|over)\b"),
    ("compute", r"\btraining (?:cost|time)\b|\bcost (?:to|of) train|\bhow long\b.{0,40}\btrain"),
    # "how fast is Isomer": a run time or a speed-up ("increase the speed by 13 times") answers it
    ("speed", r"\bhow (?:fast|quickly)\b"),
    ("time", r"\bhow long\b|\brun ?time\b|\blatency\b|\binference time\b"),
    ("compute", r"\bcompute\b|\bgpus?\b|\btraining cost\b|\bcost (?:to|of) train|\bflops\b"),
    ("memory", r"\bmemory\b|\bstorage\b|\bdisk\b|\bgigabytes?\b"),
    ("bits", r"\bbit[- ]?widths?\b|\bbits\b|\bprecision (?:format|level)s?\b"),
    ("percent", r"\baccuracy\b|\bacc\b|\btop-?[15]\b|\bmost accurate\b|\bpercent(?:age)?\b|\berror rate\b|\bf1\b"),
]
# What titles and abstracts cannot tell. Kept narrow so "citation recommendation" stays a topic.
META_PATTERNS = {
    "authors": r"\bwho (wrote|authored|are the authors|is the author|proposed|created|published)\b|"
    r"\bauthors? (of|behind)\b|\bwritten by\b|\bwhich (authors|researchers|people)\b|\bfirst author\b|"
    r"\b(?:paper|its|their)(?:'s)? authors\b|\bauthors\s*[?.!]?\s*$|\bwho(?:'s| is| are) behind\b",
    "affiliations": r"\baffiliat|\b(which|what) (university|universities|institution|institutions|lab|labs|"
    r"company|companies|country|countries)\b|\b(?:developed|built|made|released) by (?:a |the |which |what )?"
    r"(?:company|companies|lab|labs|university|institution)\b",
    "venues": r"\b(which|what) (venue|conference|journal|workshop)\b|\bpublished (in|at) (?!(?:19|20)\d\d)|"
    r"\baccepted (to|at|by)\b|\b(award|best paper(?! (?:on|about|for|in|to|that|which|with)\b))\b|\b(?:paper|its)(?:'s)? (?:conference|venue|journal)\b|"
    r"\b(?:conference|venue)\s*[?.!]?\s*$",
    "citation counts": r"\b(most|how many|number of|highest) (citations|cited|times cited)\b|\bcitation counts?\b|"
    r"\bmost[- ]cited\b|\bh-index\b|\bmost (influential|popular)\b",
}
# What a question may add to a topic that titles and abstracts cannot tell: a venue named
# ("NeurIPS 2023 papers on robustness") or the lab a paper came from ("papers from Google or
# DeepMind on interpretability"). The topic is answered and the answer says it is not filtered by it.
_VENUES = r"(?:neurips|nips|icml|iclr|cvpr|iccv|eccv|aaai|ijcai|acl|emnlp|naacl|kdd|sigir|miccai|interspeech|icassp|wacv|bmvc)"
_LABS = (r"(?:google(?: research| brain)?|deepmind|google deepmind|meta(?: ai)?|facebook(?: ai)?|fair|openai|microsoft(?: research)?|"
         r"nvidia|apple|amazon|baidu|alibaba|tencent|huawei|bytedance|anthropic|stanford|mit|berkeley|cmu|oxford|cambridge|tsinghua)")
UNKNOWABLE_RES = {
    "venues": re.compile(rf"\b(?:(?:published |accepted )?(?:at|in|from) )?{_VENUES}(?:\s*'?\d{{2}}(?!\d))?(?: papers?)?(?![\w-])", re.I),
    "affiliations": re.compile(rf"\b(?:from|by|at) (?:the )?{_LABS}(?:\s*(?:or|and|/|,)\s*{_LABS})*(?![\w-])", re.I),
}

# Words that point back at the previous answer.
FOLLOWUP_RE = re.compile(
    r"\b(those|these|them|they|their|its|it|this (paper|one|work|method)|that (paper|one|work|method)|"
    # "the same paper", not "do different networks learn the same representations?"
    r"the (first|second|third|fourth|fifth|last|latter|former|other) ?(one|paper|papers|work)?|"
    r"the (?:above|previous|same) ?(?:one|ones|paper|papers|work|list|answer)|"
    r"the two(?: papers| ones)?|both of (?:them|these|those)|"
    r"which of|of those|same paper|the latter|the former|above|ones)\b|\[\d+\]|(?:\b(?:paper|number|no\.) ?|#)\d\b|"
    r"^\s*(?:and\s+)?the one\b",
    re.I,
)
# "which one reports the highest accuracy?" after a list asks about that list; "which one should I
# pick, TIES or Fisher?" names its own options and is not a follow-up.
WHICH_ONE_RE = re.compile(r"^\s*(?:and\s+|so\s+|ok\w*[,.]?\s+)?(?:which|what) ones?\b", re.I)
# A short "which are training-free?", "which use transformers?" after a list narrows that list.
WHICH_NARROW_RE = re.compile(r"^\s*(?:and\s+)?which (?:are|is|were|have|has|use|uses|do|does|need|needs)\s+"
                             r"(?:\S+\s*){1,3}[?.!]*\s*$", re.I)
# "compare the first two", "the top 2", "both of them": the previous answer's first two papers.
FIRST_TWO_RE = re.compile(r"\b(?:the )?(?:first|top) (?:two|2)\b|\bboth(?: of)? (?:them|those|these)\b", re.I)
# A paper of the previous answer picked by what it is: "the one with Fisher weights", "the ViT one".
DESCRIBED_ONE_RE = re.compile(r"\bthe one (?:with|about|on|that|which|using|where|for)\b|"
                              r"\bthe (?!other\b|first\b|second\b|third\b|last\b|same\b)[\w\-]+ (?:one|paper)\b", re.I)
# The description ends where the question goes on: at punctuation, a dash, or the verb of a yes/no
# question ("does the one about attention layer outputs use gpt-2?").
_DESCRIBED_WITH_RE = re.compile(r"\bthe one (?:with|about|on|that|which|using|where|for)\s+([^,;:?!]+?)\s*"
                                r"(?:[,;:?!]| - |$| (?=(?:use|have|need|report|get|reach|achieve|beat|outperform|"
                                r"support|handle|require|work|evaluate|train|compare|mention|include|cite)s?\b))", re.I)
_DESCRIBED_AS_RE = re.compile(r"\b(?:the|that) ((?:[\w\-^]+ ){0,2}?[\w\-^]+) (?:one|paper)\b", re.I)
_NOT_DESCRIPTIONS = {"other", "first", "second", "third", "last", "same", "right", "only", "best", "next"}


def described_phrase(body: str) -> str:
    """What a paper is picked by: "the one with Fisher weights" -> "Fisher weights", "does the
    complexity one use imagenet?" -> "complexity"; "" when the question describes none."""
    if m := _DESCRIBED_WITH_RE.search(body):
        return m.group(1)
    for m in _DESCRIBED_AS_RE.finditer(body):
        if m.group(1).split()[0].lower() not in _NOT_DESCRIPTIONS:
            return m.group(1)
    return ""


# "does that paper evaluate on GPT-2?", "is it trained on ImageNet?": asked of one paper, answered
# with the sentence that says it, or that the abstract does not mention it.
YESNO_RE = re.compile(r"^\s*(?:and\s+|so\s+|ok\w*[,.]?\s+)?(?:does|do|did|is|are|was|were|can|could|has|have)\s+"
                      r"(?:it|they|that paper|this paper|that one|this one|the paper|that work|this work|"
                      r"the one (?:with|about|on|that|which|using|where|for)\b|the (?:[\w\-^]+ ){1,3}?one\b)", re.I)
# "compare them", "how do they differ?" (not "compare those with a transformer baseline")
_COMPARE_THEM_RE = re.compile(r"\b(?:compare|contrast)\s+(?:them|these|those|the two|both)(?:\s+(?:papers|ones))?\s*[?.!]*\s*$|"
                              r"\bhow do (?:they|these|those|the two|both)(?: papers)? (?:compare|differ)\b|"
                              r"\bdifference between (?:them|these|those|the two)\b", re.I)
LAST_TWO_RE = re.compile(r"\bthe last (?:two|2)\b", re.I)
# "filter (it) to the ones", "narrow down to those": a follow-up that filters the previous answer.
_NARROW_TO = r"(?:filter|narrow|cut|restrict|limit)\w*(?: (?:it|them|this|that|down))? (?:to|down to) (?:the ones?|those|these)"
SUBSET_RE = re.compile(r"\b(which|what|how many|any|do|does|are|is|did) (?:ones? )?(of|one of|among)? ?(those|these|them|they)\b|"
                       r"\b(of|among|from) (those|these|them)\b|\b(those|these) (?:that|which|with|using|used|about)\b|"
                       r"^\s*(?:and\s+)?(?:ok\w*[,.]?\s+)?(?:which|what) ones?\b|\bthe ones\b|"
                       # keyword style: "those aligning neurons ...", "the one relying on ..."
                       r"^\s*(?:and\s+)?(?:those|these|the ones?)\s+(?:\w+ing|about|on|with|that|which|where|whose)\b|"
                       # "just the pruning ones", "ones that merge tokens", "filter to the ones using X"
                       r"\bthe (?:[\w\-]+ ){1,2}ones\b|^\s*(?:and\s+)?(?:just |only )?ones\s+(?:that|which|with|using|about)\b|"
                       rf"\b{_NARROW_TO}\b",
                       re.I)
ORDINALS = {"first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
            "ninth": 9, "tenth": 10, "last": -1, "former": 1, "latter": -1, "1st": 1, "2nd": 2, "3rd": 3, "4th": 4,
            "5th": 5}
ORDINAL_RE = re.compile(r"\bthe (first|second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|last|former|latter|"
                        r"1st|2nd|3rd|4th|5th)\b(?! (?:stage|step|time|layer|order|author)s?\b)", re.I)
# "which one is the newest?", "and the oldest?" after a list: a pick by date among its papers, not a
# "recent" date window.
DATE_PICK_RE = re.compile(r"\b(newest|latest|most recent|oldest|earliest|came (?:out )?first|(?:was )?published first|"
                          r"came (?:out )?last|newer|older|more recent)\b", re.I)
_OLDEST = ("oldest", "earliest", "came first", "came out first", "published first", "was published first", "older")
REF_RE = re.compile(r"\[(\d{1,2})\]|(?:\b(?:paper|number|no\.|item|source) ?|#)(\d{1,2})\b", re.I)
SUMMARY_RE = re.compile(r"\b(summar\w*|tell me (?:more|about)|more (?:about|on|details)|explain|details? (?:on|about|of)|"
                        r"what (?:does|did|is) (?:it|that|this|the \w+ one)(?=\s+(?:do|does|propose|present|introduce|offer|contribute|say|find|show|cover|about)\b|\s*[?.!]*\s*$)|elaborate|describe|overview|gist|main idea|"
                        r"what (?:is|'s) (?:it|that one|this one) about)\b", re.I)

# Comparisons: two things named side by side. Each pattern yields the two sides (a side that lists
# more is split, up to MAX_SIDES: a wider table no longer reads side by side).
MAX_SIDES = 4
_SIDE = r"(.+?)"
COMPARE_RES = [
    # "compare FSAF et RCNet": "and" as French, Spanish, Italian, Portuguese or German write it
    # between two names (the question may still read as English)
    re.compile(rf"\b(?:compare|comparing|contrast|contrasting|comparison (?:of|between))\s+{_SIDE}\s+"
               rf"(?:and|with|to|vs\.?|versus|against|et|y|e|und|avec|con|mit)\s+{_SIDE}\s*"
               rf"(?:[?.!]|$|,|\s(?:in terms of|on|for)\s)", re.I),
    re.compile(rf"\bdiff(?:erence|erences|er)s? between\s+{_SIDE}\s+and\s+{_SIDE}\s*(?:[?.!]|$|,)", re.I),
    re.compile(rf"\bhow (?:does|do|is|are)\s+{_SIDE}\s+(?:differ|compare|different|stack up)\s+(?:from|to|with|against)\s+{_SIDE}\s*(?:[?.!]|$|,)", re.I),
    re.compile(rf"\bhow\s+{_SIDE}\s+(?:differs|compares|stacks up)\s+(?:from|to|with|against)\s+{_SIDE}\s*(?:[?.!]|$|,)", re.I),
    re.compile(rf"^(?:.*?:\s*)?{_SIDE}\s+(?:vs\.?|versus|v\.)\s+{_SIDE}\s*(?:[?.!]|$|,|\s(?:for|on|in)\s)", re.I),
    re.compile(rf"\b(?:should i (?:use|pick|choose|go with|try)|(?:which|what) (?:is|'s|one is) better[,:]?|"
               rf"(?:which|what) should i (?:use|pick|choose)[,:]?)\s+{_SIDE}\s+or\s+{_SIDE}\s*(?:[?.!]|$|,)", re.I),
    re.compile(rf"^{_SIDE}\s+or\s+{_SIDE}\s*(?:[?,—–-]|\s-\s)\s*(?:which|what|who)\b", re.I),
]
_SIDE_CLEAN = re.compile(r"^(?:the |a |an |between |methods? |papers? |approach(?:es)? |works? )+|"
                         r"\s+(?:papers?|methods?|approach(?:es)?|work)$", re.I)

# Phrases that carry no topic: stripped before retrieval so "which papers" does not match every paper.
BOILERPLATE_RE = re.compile(
    r"^\s*((?:and|so|ok|okay|alright|cool|nice|great|thanks|hmm)[,.!]?\s+)*(please\s+)?(can you\s+|could you\s+)?(tell me\s+)?("
    r"(which|what|how many|any) (one )?(of|among) (those|these|them)( papers| works| ones)?( is| are| was| were| do| does| did)?|"
    r"(do|does|are|is) (any )?(of )?(those|these|they|them)( papers)?|(which|what) (papers|works|work|studies|research|"
    r"articles|methods|approaches)( is there)?( are there)?( in the corpus)?( do| that| which)?"
    r"(?:(?: exists?| has been (?:done|published)| have been (?:done|published))(?: on| about| for| in)?)?|"
    r"(are|is) there (any )?(papers?|works?|studies|research)( that| on| about)?|"
    r"(any|some)( good| cool| interesting| nice| other| more)? (papers?|works?|studies|research|stuff)( that| on| about| for)?|"
    r"(anything|something) (on|about)|"
    r"(?:what'?s|what is|anything) (?:new|happening|going on) (?:in|on|with|about)|"  # what the topic is, not a word of it
    r"(?:what(?:'?s| is| are) )?(?:the )?best (?:approach(?:es)?|methods?|ways?|papers?|work|models?|techniques?) (?:for|to|on)|"
    r"(?:(?:have )?(?:you )?got) (?:any )?(?:good )?(?:papers?|works?|anything|something) (?:on|about|for)|"
    r"(those|these|the ones?)( that| which| about| on)?(?= \w+ing\b| with\b| that\b| which\b| about\b| on\b)|"
    rf"{_NARROW_TO}"
    r"( that| which| about| on| with)?|(?:just|only) (?:the ones?|those|these)( that| which| about| on| with)?|"
    r"(more )?about|(what'?s|what is) the best way to|how (can|do|should|could) (i|we|one|you)|"
    r"(summari[sz]e|explain|overview of)( the)?( main)?( approaches| methods| work| papers)?( to| on| for| about| in)?|"
    r"(find|list|show)( me)?( all)?( the)? (papers|works|studies)( that| on| about)?|"
    r"(is there|do you have) a paper (that|which|on|about)|a paper (that|which)|the paper (that|which)|"
    r"which paper|what paper)\s*",
    re.I,
)
# One paper is pointed at: "which paper", "a paper that", "the paper on", "is there a study that".
ONE_PAPER_RE = re.compile(r"\b(?:which|what|a|the|one|this|that|single) (?:paper|study|article|publication|preprint)\b(?!s)|"
                          # "tell me about the model scaling paper": one paper, described
                          r"\b(?:tell me about|summari[sz]e|explain|describe) the (?:[\w-]+ ){1,4}(?:paper|study|article)\b(?!s)",
                          re.I)
LIST_RE = re.compile(r"\b(papers|works|studies|articles|approaches|methods|research|publications|anything|any work|"
                     r"ones|options|alternatives|techniques)\b", re.I)


@dataclass(frozen=True)
class Intent:
    wants_list: bool  # the question asks for several papers (plural)
    wants_code: bool
    wants_detail: bool  # a fact is asked for: a number, a dataset, a name
    meta: str | None  # which missing field the question asks about, if any
    followup: bool
    subset: bool  # "which of those ...": filter the previous answer's papers
    ordinal: int | None  # "the second one" -> 1 (0-based; -1 = last)
    topic: str  # the question with its boilerplate (and any date words) removed
    points_at_one: bool = False  # "which paper ...", "the paper that ...": one paper is wanted
    answer_type: str | None = None  # "number", "dataset", "name" or None
    window: Window | None = None  # dates the question asks for
    sides: tuple[str, ...] = ()  # comparison: the two things compared (names or descriptions)
    refs: tuple[int, ...] = ()  # follow-up: [n] numbers of the previous answer (1-based)
    summarize: bool = False  # follow-up: "summarize the second one", "tell me more about [2]"
    asked: str = ""  # the asked thing in the question's words, e.g. "GPUs", for "does not report"
    counted: bool = False  # "how many GPUs": the answer must count that thing, not a unit built on it
    unit: str | None = None  # the kind of quantity asked for: "time", "speedup", "compute", ...
    extra: dict = field(default_factory=dict)

    @property
    def code_list(self) -> bool:
        """ "papers with code for semantic segmentation": a list on a topic, of papers that link code."""
        return self.wants_code and self.wants_list and not self.points_at_one and not self.followup

    @property
    def searched_topic(self) -> str:
        """What is searched: the topic without the words asking for code ("where is the code for
        InstaFlow" searches "InstaFlow"), unless nothing would be left."""
        if not self.wants_code:
            return self.topic
        rest = " ".join(without_code_words(self.topic).split())
        # "w/ for semantic segmentation", "mixup have": the words that joined the code words go too.
        rest = _trim_edges(re.sub(r"(?:^|\s)(?:w/|with|having|have|has)(?=\s+(?:for|on|about|in|of)\b|\s*$)", " ", rest))
        return rest if content_words(rest) else self.topic

    @property
    def comparison(self) -> bool:
        return len(self.sides) >= 2 or len(self.refs) >= 2 and self.extra.get("compare", False)


# Where to look is always this corpus: "... in this corpus", "... here" name no topic.
SCOPE_RE = re.compile(r"\s+(?:in|from|among|within) (?:this|the|your) (?:corpus|collection|set|database|papers)\b|"
                      # "which of the papers you listed ...": the previous answer, not a topic word
                      r"\s+(?:that |which )?you(?:['’]ve| have)? (?:just )?(?:listed|showed|shown|mentioned|gave|given|found|"
                      r"cited|returned|suggested)\b(?: me)?(?: (?:above|earlier|before))?|"
                      r"\s+(?:in )?here\b(?=\s*[?.!]*\s*$)", re.I)


# Words that may open or close a question without being its topic: grammar, greetings, and the
# things every answer here is made of ("papers", "research"). Not "new", "based", "using": those
# start topic names ("new view synthesis").
_EDGE_WORDS = FUNCTION_WORDS | frozenset(
    """hey hi hello please thanks anyone anything something someone tell show find list give summarize
    summarise explain describe overview paper papers work works study studies research article articles
    publication publications corpus collection ideas suggestions pointers refs references recommendations
    asap pls plz thx lol stuff""".split())


def _trim_edges(text: str) -> str:
    """ "whats new in model quantization" keeps its start; "dont know much about mixture of experts,
    what's" loses "what's": a topic neither starts nor ends with a word that cannot carry one."""
    tokens = text.split()

    def empty(token: str) -> bool:
        return all(w in _EDGE_WORDS for w in words(token))

    while len(tokens) > 1 and empty(tokens[0]):
        tokens.pop(0)
    while len(tokens) > 1 and empty(tokens[-1]):
        tokens.pop()
    return " ".join(tokens).strip(" ,;:-–—")


# Chat openers before the question proper ("lol anything on ...", "yo whats new in ...").
_OPENERS_RE = re.compile(r"^\s*(?:(?:(?:lol|yo|sup|hey|hi|hello|ok|okay|so|hmm|um|uh|well|btw|fyi|pls|plz)\b|"
                         # a change of subject: "ok different topic: ...", "switching gears - ..."
                         r"(?:a )?(?:different|new|another|other|unrelated) (?:topic|question|subject)\b|"
                         r"switching gears\b|(?:chang|switch)(?:e|ing)? (?:the |of )?(?:topic|subject)s?\b|"
                         r"(?:topic|subject) (?:change|switch)\b|unrelated\b(?=\s*[:\-–—])|"
                         r"on (?:a |an )?(?:different|other|another|unrelated|separate) note\b|"
                         # thanks for the last answer: "nice list!", "great, thanks."
                         r"(?:nice|great|cool|thanks|thank you|awesome|perfect|interesting)(?: (?:list|answer|one|stuff|"
                         r"results?))?(?=[,.!]))[,.!:;\-–—]*\s+)+", re.I)


# What the asker is doing or wants, before what they ask about: "I'm looking for work that ...",
# "I need something for ...", "we're trying to get into ...".
_ASKER_RE = re.compile(
    r"^\s*(?:(?:i|we)(?:['’]?m|['’]?re| am| are)?\s+)?(?:(?:currently|really|just)\s+)?"
    r"(?:looking for|(?:(?<=m )|(?<=e ))searching for|trying to (?:find|understand|learn about|get into|figure out)|interested in|"
    r"curious about|need|want|would like)"
    r"(?:\s+to (?:know|find|learn|read|understand) (?:more )?(?:about|on))?"
    r"(?:\s+(?:some|any|a few|good)?\s*(?:something|anything|papers?|works?|research|studies|refs|references|ideas)"
    r"(?:\s+(?:that|which|on|about|for|to))?)?\s+", re.I)


def topic_of(question: str) -> str:
    text = _ASKER_RE.sub("", _OPENERS_RE.sub("", question.strip()), count=1)
    text = SCOPE_RE.sub("", BOILERPLATE_RE.sub("", text, count=1)).strip()
    text = _trim_edges(text.rstrip("?.! "))
    return text.rstrip("?.! ") or question.strip().rstrip("?.! ")


def _clean_side(text: str) -> str:
    text = text.strip(" \"'“”‘’`*()[],.;:?!—–-")
    for _ in range(3):
        text = _SIDE_CLEAN.sub("", text).strip(" \"'“”‘’`*,")
    if text.count("(") > text.count(")"):  # "ToMe (Token Merging)": the strip took its ")"
        text += ")"
    return text


# A question that weighs things against each other, however it is worded around them.
COMPARE_CUE_RE = re.compile(r"\b(?:differ(?:s|ence|ences)?|compar(?:e|ed|es|ing|ison)|contrast\w*|versus|vs\.?|"
                            r"decid\w*|choos\w*|pick|mix(?:ing)? up|tell apart|go with|better than|worse than|"
                            r"pros and cons|trade-?offs?)\b", re.I)
# With such a cue: "between X and Y", "..., X or Y?" (the things weighed).
_END = r"\s*(?:[?.!]|$|,|\s(?:for|in|on|when|to)\s)"
CUED_SIDES_RES = [
    re.compile(rf"\bbetween\s+{_SIDE}\s+(?:and|or)\s+{_SIDE}{_END}", re.I),
    re.compile(rf"[,:;]\s*{_SIDE}\s+or\s+{_SIDE}\s*[?.!]*$", re.I),
    # "how do A and B differ", "pros and cons of A and B", "A and B: what's the difference?"
    re.compile(rf"\bhow (?:do|does|are|is)\s+{_SIDE}\s+(?:and|&)\s+{_SIDE}\s+(?:differ|compare|different|stack up)\b", re.I),
    re.compile(rf"\b(?:pros and cons|trade-?offs?|strengths and weaknesses) (?:of|between)\s+{_SIDE}\s+(?:and|vs\.?|versus)\s+{_SIDE}{_END}", re.I),
    re.compile(rf"^\s*{_SIDE}\s+(?:and|&)\s+{_SIDE}\s*[:,;—–-]\s*(?:what|how|which|pros|trade)", re.I),
    # "A compared to B", "is A better than B?"
    # (a short first side: "by how much does X speed up Y compared with PyTorch" is a detail question)
    # ("how fast is FastSpeech compared to autoregressive models" asks a measure of one side: a detail)
    re.compile(rf"^\s*(?:is |are |does |do )?(?!(?:how|what|which)\b)([^\s,;:?]+(?:\s+[^\s,;:?]+){{0,3}})\s+(?:compared (?:to|with)|better than|"
               rf"worse than|faster than)\s+{_SIDE}{_END}", re.I),
]


PLURAL_RE = re.compile(r"\b(those|these|them|they|ones|which|any|all|each)\b", re.I)
# How far into a question "the difference between A and B" may start and still be what it asks
# ("so, what's the real difference between ..." is 4 words in).
HEAD_WORDS = 5


_OPTIONS_RE = re.compile(r"^\s*([^,;:?]+?)\s+or\s+([^,;:?]+?)\s*(?:\s(?:for|in|on|to)\s[^?]*)?[?.!]*\s*$", re.I)


_PAPERS_THAT_COMPARE_RE = re.compile(r"\b(?:papers?|works?|studies|study|research|articles?|anything|something)\s+"
                                     r"(?:that\s+|which\s+)?(?:compar\w*|contrast\w*|benchmark\w*)\b", re.I)


def _listed_sides(sides: tuple[str, ...]) -> tuple[str, ...]:
    """Three or four things compared ("compare A, B and C", "A vs B vs C"): a side that is itself a
    list of names is each of them."""
    out: list[str] = []
    for side in sides:
        parts = [x for x in re.split(r"\s*,\s*(?:and\s+)?|\s+(?:vs\.?|versus)\s+", side) if x.strip()]
        # Each part a name or a short title, not a clause of a long question ("..., comparing SVMs,
        # random forests and CNNs. can you find it").
        named = len(parts) > 1 and all(any(w not in FUNCTION_WORDS for w in words(x)) and len(words(x)) <= 6
                                       for x in parts)
        out += [_clean_side(x) for x in parts] if named else [side]
    return tuple(out[:MAX_SIDES]) if len(set(map(str.lower, out))) == len(out) else sides


def comparison_sides(question: str) -> tuple[str, ...]:
    q = " ".join(question.split())
    if _PAPERS_THAT_COMPARE_RE.search(q):
        return ()  # "papers comparing CNNs and ViTs on small datasets": papers that compare, as a topic
    cued = COMPARE_CUE_RE.search(q) is not None
    for pattern in COMPARE_RES + (CUED_SIDES_RES if cued else []):
        m = pattern.search(q)
        if not m:
            continue
        if "between" in pattern.pattern and len(words(q[: m.start()])) > HEAD_WORDS:
            # "... make models robust to differences between hospitals and staining": a difference
            # named deep inside the question is part of its topic, not what it asks to compare.
            continue
        sides = tuple(_clean_side(s) for s in m.groups())
        if pattern.pattern.startswith("^") and "vs" in pattern.pattern and len(words(sides[0])) > 6:
            # "summarize what the corpus says about which features nets prefer, e.g. simple vs.
            # complex": an example inside a long question, not two things it weighs.
            continue
        if pattern.pattern.startswith("^") and r"\s+or\s+" in pattern.pattern and any(len(words(s)) > 5 for s in sides):
            # "X or Y? Which ...": a choice between two short names ("PLeaS or Fisher merging, which
            # is better?"), not a long question that happens to say "or" ("... on a specific subject
            # or person's identity? Which papers should I look at?").
            continue
        # A side must name something: at least one word that is not a function word.
        if all(any(w not in FUNCTION_WORDS for w in words(s)) for s in sides) and all(len(s) <= 120 for s in sides):
            if sides[0].lower() != sides[1].lower():
                return _listed_sides(sides)
    # "InstaFlow or progressive distillation for my project?": two short options, one written like
    # a method's name ("detection or segmentation for X-rays" is a topic, not a choice).
    m = _OPTIONS_RE.match(q)
    if m and written_as_names(m.group(1) + " " + m.group(2)):
        sides = tuple(_clean_side(x) for x in m.groups())
        if all(1 <= len(words(x)) <= 4 and not set(words(x)) & (FUNCTION_WORDS | REQUEST_WORDS) for x in sides) \
                and sides[0].lower() != sides[1].lower():
            return sides  # names only: "any papers on GANs or VAEs" asks for papers, not a choice
    if cued:
        # "mambaout mambaquant difference", "how do MambaOut and MambaQuant differ": exactly two
        # words written like method names, and a word that weighs them.
        names = list(dict.fromkeys(name_like(q)))
        if len(names) == 2:
            a, b = (re.escape(n) for n in names)
            # Side by side ("MambaOut and MambaQuant", "mambaout mambaquant"), not two names that
            # merely occur in one question ("FlashFFTConv speedup ... vs PyTorch").
            m = re.search(rf"(?<![\w-])({a})\s*(?:,|and|&|or)?\s+({b})(?![\w-])", q, re.I)
            if m:
                return m.group(1), m.group(2)
    return ()


def _counted(phrase: str) -> str:
    """The counted thing without a method's name after it ("how many GPUs TIES-Merging was trained
    on" counts GPUs)."""
    parts = phrase.split()
    while len(parts) > 1 and written_as_names(parts[-1]):
        parts.pop()
    return " ".join(parts)


# "how much faster is FreCaS?" asks for a speedup, not for "the faster".
_COMPARATIVE_NOUNS = {"faster": "speedup", "quicker": "speedup", "better": "improvement", "smaller": "size reduction",
                      "cheaper": "cost saving", "slower": "slowdown", "larger": "size", "bigger": "size"}


def _asked_noun(question: str) -> str:
    """The thing a number question counts or measures: "how many GPUs were used" -> "GPUs"."""
    found = re.findall(r"\bhow (?:many|much)\s+((?:[\w\-]+\s+){0,2}?[\w\-]+?)(?=\s+(?:were|was|are|is|did|do|does|has|have|had|"
                       r"can|could|would|will|used|in|for|of|to|on|does|and)\b|[?.,!]|$)", question, re.I)
    if found:  # "how many GPUs and how many hours": both
        return " or ".join(dict.fromkeys(_COMPARATIVE_NOUNS.get(c.split()[0].lower(), re.sub(r"^(?:more|less|fewer) ", "", c))
                                         for c in (_counted(f[0] if isinstance(f, tuple) else f) for f in found)))
    m = re.search(r"\b(?:what|which) (?:is |was |are |were )?(?:the )?((?:[\w\-]+\s+){0,2}(?:accuracy|score|speed-?up|"
                  r"c-index|auc|f1|fid|bleu|psnr|error(?: rate)?|run ?time|latency|memory|size|datasets?|benchmarks?|"
                  r"backbones?|models?|formats?|metrics?|" + QUANTITY_NOUNS + r"))\b", question, re.I)
    if m:
        return m.group(1)
    m = re.search(r"\bnumber of ([\w\-]+(?: (?![\w\-]+ing\b)[\w\-]+)?)", question, re.I)  # not "gpus training"
    if m:
        return _counted(m.group(1))
    if re.search(r"\band how (?:accurate|fast|well|good|quick(?:ly)?|long)\b", question, re.I):
        return ""  # "what bands did it use and how accurate was it": the number is the accuracy, not the bands
    # "what FPR95 does their network reach": the value named between "what" and "does"
    m = re.search(r"\b(?:what|which) ([\w\-]+(?: [\w\-]+){0,2}) (?:does|do|did)\b", question, re.I)
    if m:
        return m.group(1)
    # "which one has the lowest FID?": the metric named
    m = re.search(r"\b(?:reports?|gets?|got|achieves?|reach(?:es)?|has|have|attains?|obtains?|shows?) (?:the |an? )?"
                  r"(?:[\w\-]+ )?((?-i:[A-Z][A-Za-z0-9\-]*[A-Z]\w*))\b", question, re.I) \
        or re.search(r"\b(accuracy|c-index|auc|f1|fid|bleu|psnr|error rate|speed-?up|map|miou|top-1)\b", question, re.I)
    return m.group(1) if m else ""


# Words the intent is read from, which a typo would otherwise hide ("the secnd one", "a githib link").
CODE_WORDS = ("github", "gitlab", "repository", "implementation")


def _fix_cue_words(text: str, has_history: bool) -> str:
    """A word one edit from an ordinal (in a follow-up) or a code word that is no English word
    itself ("fist", "forth" stay as written) is read as that word."""
    targets = [w for w in (*ORDINALS, *CODE_WORDS) if len(w) >= 5 and (has_history or w in CODE_WORDS)]

    def fix(m: re.Match) -> str:
        w = m.group(0)
        if len(w) < 4 or w.lower() in targets or zipf(w) > 0:
            return w
        return next((t for t in targets if _one_edit(w.lower(), t)), w)
    return re.sub(r"[A-Za-z]+", fix, text)


_IS_CONTRACTED_RE = re.compile(r"\b(what|which|who|how|where|when|that|there|it)(?:['’]s|s)\b", re.I)
# Superlatives that only grade the asked quantity: "the best accuracy" is the accuracy reported.
GRADES = ("best", "highest", "top", "reported", "final", "overall", "maximum", "peak", "lowest", "smallest", "fewest",
          "worst", "largest", "biggest", "fastest", "minimum")
_GRADED_RE = re.compile(rf"\b(the) (?:{'|'.join(GRADES)}) ", re.I)


def _spelled_out(text: str) -> str:
    """The question as the fact-type patterns read it: "what's"/"whats" -> "what is", and "the best
    accuracy" -> "the accuracy"."""
    return _GRADED_RE.sub(r"\1 ", _IS_CONTRACTED_RE.sub(r"\1 is", text))


def classify(question: str, has_history: bool, *, today: dt.date | None = None, recent_months: int = 24,
             names_a_thing=None) -> Intent:
    """names_a_thing(phrase) -> bool: whether the corpus uses a phrase such as "coco 2017" as a name,
    so a year ending the question is part of that name rather than a date."""
    q = question.strip()
    meta = next((name for name, pat in META_PATTERNS.items() if re.search(pat, q, re.I)), None)
    window = parse_window(q, today or dt.date.today(), recent_months)
    by_date = None
    if has_history and (pick := DATE_PICK_RE.search(q)) and not content_words(topic_of(DATE_PICK_RE.sub(" ", q))):
        by_date = "oldest" if pick.group(1).lower() in _OLDEST else "newest"
        window = None
    if window is not None and window.after_word and names_a_thing is not None \
            and names_a_thing(f"{window.after_word} {window.date_from[:4]}"):
        window = None
    body = q
    if window is not None:
        body = " ".join(re.sub(re.escape(window.said), " ", q, count=1, flags=re.I).split())
        body = re.sub(r"^[\s,;:\-–—]+|[\s,;:\-–—]+(?=[?.!]*$)", "", body)  # "in 2024, what ..." -> "what ..."
        # "any newer ones, after 2022?": the window says which dates; "newer" is no topic word
        body = " ".join(re.sub(r"\b(?:newer|more recent|recent)\b", " ", body, flags=re.I).split())
    body = _fix_cue_words(body, has_history)
    unknowable = {}
    for kind, pattern in UNKNOWABLE_RES.items():
        if meta is None and (m := pattern.search(body)):
            rest = " ".join(pattern.sub(" ", body).split())
            if content_words(topic_of(rest)):
                unknowable[kind] = re.sub(r"\s+papers?$", "", m.group(0).strip(), flags=re.I)
                body = rest
            else:
                meta = kind  # "NeurIPS papers": nothing asked but what the corpus cannot tell
    refs = tuple(int(a or b) for a, b in REF_RE.findall(body)) if has_history else ()
    followup = has_history and bool(FOLLOWUP_RE.search(body) or refs or ORDINAL_RE.search(body) or by_date
                                    or WHICH_ONE_RE.search(body) and not comparison_sides(body)
                                    or WHICH_NARROW_RE.search(body)
                                    or re.search(r"\bthe one (?:with|about|on|that|which|using|where)\b", body, re.I)
                                    # "go back to the action recognition paper: ...", "that MRI paper"
                                    or re.search(r"\b(?:back to the|that) (?:[\w\-^]+ ){1,3}?(?:paper|one)\b", body, re.I)
                                    # "does the complexity one use imagenet?": "the X one" points back
                                    # wherever it stands ("the X paper" may be a new question's title)
                                    or re.search(r"\bthe (?!other\b|first\b|second\b|third\b|last\b|same\b|right\b|"
                                                 r"only\b|best\b|next\b)(?:[\w\-^]+ ){1,3}one\b", body, re.I)
                                    and not comparison_sides(body))
    ordinal_match = ORDINAL_RE.search(body) if followup else None
    ordinal = ORDINALS[ordinal_match.group(1).lower()] if ordinal_match else None
    sides = comparison_sides(body)
    compare_refs = False
    if followup and re.search(r"\b(compare|comparing|contrast|differ\w*|vs\.?|versus)\b", body, re.I):
        picks = [int(x) for x in refs]
        if not picks and not ORDINAL_RE.search(body) and _COMPARE_THEM_RE.search(body):
            picks = [1, 2]  # "compare them": the previous answer's first two
        elif FIRST_TWO_RE.search(body) or LAST_TWO_RE.search(body):
            picks += [1, 2] if FIRST_TWO_RE.search(body) else [-2, -1]
        else:
            picks += [ORDINALS[m.lower()] for m in re.findall(
                r"\b(first|second|third|fourth|fifth|last|former|latter|1st|2nd|3rd)\b", body, re.I)]
        if len(picks) >= 2:
            refs, compare_refs, sides = tuple(picks), True, ()
    if followup and sides and not compare_refs:
        sides = ()  # "compare those with ..." over the previous answer: handled as a follow-up
    answer_type = None
    said = _spelled_out(body)  # "what's the best accuracy" asks what "what is the accuracy" asks
    if re.search(r"\b(?:which|what) (?:datasets?|benchmarks?|data|corpora)\b", said, re.I):
        answer_type = "dataset"  # "what benchmarks does DiffPose report on" names them, it counts nothing
    elif NUMBER_RE.search(said):
        answer_type = "number"
    elif DATASET_RE.search(said):
        answer_type = "dataset"
    elif NAME_RE.search(said):
        answer_type = "name"
    wants_code = asks_for_code(body)
    topic = topic_of(body)
    # "how many papers about mixup are there?" counts papers, not a number inside an abstract.
    count_papers = answer_type == "number" and bool(re.search(
        r"\bhow many (?:papers|works|studies|articles|publications)\b", body, re.I))
    if count_papers:
        answer_type = None
    described = described_phrase(body) if followup else ""
    # "the one about MRI - what does it do about noise?" picks one paper; "the ones about MRI" narrow
    subset = followup and bool(SUBSET_RE.search(body) or WHICH_NARROW_RE.search(body)) and not refs and ordinal is None \
        and not described
    summarize = followup and bool(SUMMARY_RE.search(body))
    return Intent(
        wants_list=bool(LIST_RE.search(body)) and not ONE_PAPER_RE.search(body),
        wants_code=wants_code,
        wants_detail=answer_type is not None or bool(DETAIL_HINT_RE.search(body)),
        meta=meta,
        followup=followup,
        subset=subset,
        ordinal=None if ordinal is None else (ordinal - 1 if ordinal > 0 else -1),
        topic=topic,
        points_at_one=bool(ONE_PAPER_RE.search(body)),
        answer_type=answer_type,
        window=window,
        sides=sides,
        refs=refs,
        summarize=summarize,
        asked=_asked_noun(said) if answer_type else "",
        counted=bool(re.search(r"\bhow many\b|\bnumber of\b", body, re.I)),
        unit=next((u for u, pat in UNIT_QUESTIONS if re.search(pat, said, re.I)), None)
        if answer_type == "number" else None,
        # Points at several papers ("code for those?", "any with code?"): read from the question,
        # since the topic drops such words.
        extra={"compare": compare_refs, "plural": bool(PLURAL_RE.search(body)), "by_date": by_date,
               "count_papers": count_papers, "title": named_title(q),
               "described": described,
               # "which of the two uses prompt directional vectors?": the one of them that fits best
               "which_one": followup and bool(re.search(r"\b(?:which|what) (?:one|of the two|paper)\b", body, re.I)),
               "yesno": followup and bool(YESNO_RE.search(body)),
               "unknowable": unknowable,
               # "tell me about CREDIT": a summary asked of the paper a new question names
               "summary_asked": bool(SUMMARY_RE.search(body))},
    )
