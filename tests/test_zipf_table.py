"""The Zipf table gives exactly wordfreq's values (it replaces wordfreq's in-memory lists on the
question path), and a fresh process answering from it never loads wordfreq."""
import random
import re
import subprocess
import sys

from assistant import zipf_table
from assistant.settings import REPO_ROOT


def test_table_values_are_wordfreqs():
    from wordfreq import get_frequency_dict, zipf_frequency

    zipf_table.build()
    rng = random.Random(7)
    for lang in zipf_table.LANGS:
        plain = [w for w in get_frequency_dict(lang) if re.match(r"^[a-z]+$", w)]
        words = rng.sample(plain, 400) + ["merge", "retraining", "qzxv", "Merge", "état", "co-training", "3d",
                                          "fine-tuned", "text-to-image", "gpt-2", "2024", "1985", "7", "covid-19",
                                          "a100", "10000", "fp8", "low-res", "state-of-the-art"]
        for word in words:
            for other in ("en", lang):
                assert zipf_table.zipf_frequency(word, other) == zipf_frequency(word, other), (word, other)


def test_language_and_filler_checks_do_not_load_wordfreq():
    code = ("import sys; from assistant.words import language_of, zipf\n"
            "assert language_of('which papers merge models without retraining?') == 'en'\n"
            "assert zipf('the') > 7 and zipf('qzxv') == 0\n"
            # hyphenated words and years, common in questions ("fine-tuned models from 2024")
            "assert zipf('fine-tuned') > 3 and zipf('2024') > 4 and zipf('gpt-2') > 0\n"
            "print('wordfreq' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "False"
