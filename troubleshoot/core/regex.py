"""Regular expressions whose running time is linear in the text they search: RE2 (google-re2).

Every pattern that meets untrusted text at scale goes through here: a playbook's `matches`, the shipped log
patterns (core/detectors), the walkthrough's highlight and the board's log search. Python's `re` backtracks: a
pattern such as `^(\\w+\\s?)*$` takes seconds on 25 characters, and a shipped `a.*b.*c` alternation took 257 ms on
one 2,000-character log line. RE2 has no backtracking, so it cannot run backreferences or lookarounds: such a
pattern is refused (`RegexError`, said once, where it is loaded).

Python's `re` is kept only for patterns written in our own code that are linear by construction (anchored, or
character classes with bounded or non-overlapping repetition; the list is in docs/security.md, section 7).
"""
from __future__ import annotations

import re
from typing import Iterable, Iterator, Sequence

import re2

MAX_SUBJECT = 10_000  # characters of one value a pattern looks at (log lines are cut to 2,000 by the adapter)


class RegexError(ValueError):
    """A pattern RE2 cannot compile; `str()` is one line saying why."""


def _options(ignore_case: bool) -> "re2.Options":
    opts = re2.Options()
    opts.log_errors = False  # RE2 would print its own parse errors on stderr (and over the app)
    opts.case_sensitive = not ignore_case
    return opts


def compile_linear(pattern: str, ignore_case: bool = False) -> "Linear":
    """Compile with RE2, or raise RegexError naming what RE2 cannot do."""
    try:
        return Linear(pattern, re2.compile(pattern, _options(ignore_case)), ignore_case)
    except re2.error as exc:
        why = exc.args[0] if exc.args else str(exc)
        why = why.decode("utf-8", "replace") if isinstance(why, bytes) else str(why)
        hint = ""
        if "(?<" in pattern or "(?=" in pattern or "(?!" in pattern or "perl operator" in why:
            hint = " (lookarounds are not supported: patterns run in linear time, with RE2)"
        elif "escape sequence" in why and any(f"\\{d}" in pattern for d in "123456789"):
            hint = " (backreferences are not supported: patterns run in linear time, with RE2)"
        raise RegexError(f"{why}{hint}") from None
    except (TypeError, ValueError) as exc:
        raise RegexError(str(exc)) from None


class Linear:
    """A compiled RE2 pattern with the part of `re.Pattern`'s interface we use; subjects are cut to MAX_SUBJECT."""

    __slots__ = ("pattern", "_re", "ignore_case", "_family")

    def __init__(self, pattern: str, compiled, ignore_case: bool = False) -> None:
        self.pattern = pattern
        self._re = compiled
        self.ignore_case = ignore_case
        self._family: Family | None = None

    def search(self, text: str):
        return self._re.search(text[:MAX_SUBJECT])

    def finditer(self, text: str) -> Iterator:
        return self._re.finditer(text[:MAX_SUBJECT])

    def search_whole(self, text: str):
        """`search` over the whole text, however long (a prefilter that must not miss what lies past the cut)."""
        return self._re.search(text)

    def lines(self, lines: Sequence[str]) -> list[str]:
        """The lines it matches, in order: one search over them all first (Family), so that logs without a match
        cost one call instead of one per line."""
        if self._family is None:
            self._family = Family([self])
        return self._family.lines(lines)

    def __repr__(self) -> str:
        return f"Linear({self.pattern!r})"


class AnyOf:
    """Several patterns, each compiled on its own (so that flags such as `(?i)` keep their meaning): `search` finds
    the first that matches."""

    __slots__ = ("patterns",)

    def __init__(self, patterns: Iterable[Linear]) -> None:
        self.patterns = tuple(patterns)

    def search(self, text: str):
        for p in self.patterns:
            m = p.search(text)
            if m is not None:
                return m
        return None


_NAMED_GROUP = re.compile(r"(?<!\\)\(\?P<\w+>")  # `(?P<name>` (not an escaped paren): its name, dropped


class Family:
    """Many patterns searched over the same lines (a detector's log signatures), and one RE2 that matches wherever
    any of them does: a text none of them can match costs one search instead of one per pattern. `lines` keeps the
    lines where one may match, after a single search over all of them joined (multi-line mode, so `^` and `$` keep
    meaning the line's ends; a match across two lines only costs a look at each). The result is the same as trying
    every pattern on every line: the union only ever says "maybe"."""

    __slots__ = ("patterns", "_any")

    def __init__(self, patterns: Iterable[Linear]) -> None:
        self.patterns = tuple(patterns)
        parts = [f"(?{'i' if p.ignore_case else ''}:{_NAMED_GROUP.sub('(?:', p.pattern)})" for p in self.patterns]
        self._any = re2.compile("(?m)" + "|".join(parts or ["[^\\x00-\\x{10FFFF}]"]), _options(False))

    def maybe(self, text: str) -> bool:
        """False when no pattern of the family can match `text` (cut as Linear cuts it)."""
        return self._any.search(text[:MAX_SUBJECT]) is not None

    def which(self, lines: Sequence[str]) -> list[int]:
        """The indexes of the lines one of the patterns may match, in order."""
        if not lines or self._any.search("\n".join(line[:MAX_SUBJECT] for line in lines)) is None:
            return []
        return [i for i, line in enumerate(lines) if self.maybe(line)]

    def lines(self, lines: Sequence[str]) -> list[str]:
        """The lines one of the patterns may match, in order."""
        return [lines[i] for i in self.which(lines)]
