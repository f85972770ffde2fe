"""Pinyin initials for keyboard search (typing ``nk`` finds 内科).

``pypinyin`` is imported on first use, not with this module: its phrase dictionary (which gets 重庆 → ``cq``
right, where single characters alone would give ``zq``) costs about 55 MB of memory, and the searches of a busy
window run on the initials already stored with each row — the dictionary is needed only when a name is new.
"""

from __future__ import annotations

from functools import lru_cache


@lru_cache(maxsize=4096)
def initials(text: str) -> str:
    """``内科`` → ``nk``; latin letters and digits are kept (lower-cased), other characters dropped."""
    from pypinyin import Style, lazy_pinyin

    letters = lazy_pinyin(text or "", style=Style.FIRST_LETTER, errors=lambda s: list(s))
    return "".join(ch for part in letters for ch in part.lower() if ch.isascii() and ch.isalnum())


def matches(query: str, name: str, name_initials: str | None = None) -> bool:
    """True when ``query`` is a substring of the name or a prefix/substring of its pinyin initials."""
    q = (query or "").strip().lower()
    if not q:
        return True
    if q in (name or "").lower():
        return True
    return q in (name_initials if name_initials is not None else initials(name))
