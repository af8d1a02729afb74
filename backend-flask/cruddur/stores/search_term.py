"""A search term re-spelled for websearch_to_tsquery, so that no input can make PostgreSQL fail.

websearch_to_tsquery reads words, "quoted phrases", `or`, and `-` (not) before a word or phrase. Each `-`
in a row (`- - - a`, 33 dashes, `-!-!-!a`) nests in the one before, and past 32 PostgreSQL gives up with
"tsquery stack too small": a 500. The term is rebuilt from what it means instead: its words and phrases,
one space apart, a `-` only right before one, and at most MAX_NEGATIONS of those (half the stack: safe
whatever a server's locale counts as a letter). Punctuation, which websearch_to_tsquery ignores anyway,
is dropped; hyphenated words stay whole.
"""

from __future__ import annotations

import re

MAX_NEGATIONS = 16
WORD = r"[^\W_]+(?:-[^\W_]+)*"  # letters and digits (PostgreSQL's parser splits at `_` too)
_PART = re.compile(rf'(-?)"([^"]*)"?|(-?)({WORD})')
_WORDS = re.compile(WORD)


def websearch_text(term: str) -> str:
    """`term` as the same search, in a form websearch_to_tsquery always parses ("" when it names no word)."""
    parts, negations = [], 0
    for match in _PART.finditer(term):
        phrase_not, phrase, word_not, word = match.groups()
        negated = bool(phrase_not or word_not) and negations < MAX_NEGATIONS
        negations += negated
        if word is not None:
            parts.append(("-" if negated else "") + word)
            continue
        words = _WORDS.findall(phrase)
        if words:
            parts.append(("-" if negated else "") + '"' + " ".join(words) + '"')
    return " ".join(parts)
