"""How guessable a password is: zxcvbn's estimate, taught Vietnamese.

A length rule alone let "Mật khẩu 123456" through. zxcvbn (Dropbox's estimator, kept up on
PyPI) counts the guesses an attacker ordering her tries by frequency would need: dictionary
words, names, keyboard rows, sequences, repeats, years and dates. Its dictionaries are English,
so it is given a Vietnamese one (app/auth/data/vietnamese_words.txt and today's 34 provinces)
and is shown the password as Vietnamese passwords are typed, casefolded without diacritics:
"Mật khẩu" and "matkhau" are the same guess.
"""

from __future__ import annotations

import functools
from importlib import resources

from vietnam_provinces import Province
from zxcvbn import matching, scoring

from app.crypto.blind_index import fold_diacritics

# zxcvbn's score 3: at least 10^8 guesses, "safely unguessable" against an online attacker and
# a slow, salted hash offline (argon2id here). Its examples: "correct horse battery staple" 4.
MIN_GUESSES = 1e10
# zxcvbn's matching grows with the square of the length; a longer tail cannot make a weak
# beginning strong, so only the first characters are scored.
SCORED_LENGTH = 64
# zxcvbn scores each word between separators as a part of its own, and a password of several
# parts as if the attacker had to guess how they were put together; "mat khau 123456" then looks
# strong. People type the same guess with and without spaces, so both are scored.
SEPARATORS = str.maketrans("", "", " .,-_+/\\|:;")


def fold(text: str) -> str:
    """Casefolded, without diacritics (đ→d), as names are searched: "Mật Khẩu" is "mat khau"."""
    return fold_diacritics(text)


def _province_words() -> list[str]:
    words = []
    for province in Province.iter_all():
        name = fold(province.name)
        for prefix in ("thanh pho ", "tinh "):
            name = name.removeprefix(prefix)
        words += [name.replace(" ", ""), *name.split()]
    return words


@functools.cache
def _dictionaries() -> dict[str, dict[str, int]]:
    text = resources.files("app.auth").joinpath("data/vietnamese_words.txt").read_text("utf-8")
    listed = [line.strip() for line in text.splitlines() if line.strip()[:1] not in ("", "#")]
    words = list(dict.fromkeys([*listed, *_province_words()]))  # first (likeliest) rank wins
    return {**matching.RANKED_DICTIONARIES, "vietnamese": matching.build_ranked_dict(words)}


def weak_patterns(password: str, personal: tuple[str, ...] = ()) -> list[str] | None:
    """The patterns that make `password` guessable in fewer than MIN_GUESSES, or None if not.

    `personal` words (the username, the display name) count as the likeliest guesses of all.
    The dictionaries are copied per call: zxcvbn's own entry point keeps user inputs in a
    module-level dict that concurrent requests would share.
    """
    folded = fold(password)[:SCORED_LENGTH]
    inputs = [w for p in personal for w in (fold(p), *fold(p).split()) if len(w) > 1]
    dictionaries = {**_dictionaries(), "user_inputs": matching.build_ranked_dict(inputs)}
    weakest = min(
        (
            scoring.most_guessable_match_sequence(text, matching.omnimatch(text, dictionaries))
            for text in {folded, folded.translate(SEPARATORS)}
            if text
        ),
        key=lambda result: result["guesses"],
    )
    if weakest["guesses"] >= MIN_GUESSES:
        return None
    return sorted({m["pattern"] for m in weakest["sequence"] if m["pattern"] != "bruteforce"})
