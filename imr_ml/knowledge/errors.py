"""The one error a knowledge file can raise, and the suggestion it carries.

Light on purpose (no pydantic, no TOML): the command line imports it to turn the error into
one `error:` line."""

from __future__ import annotations

import difflib
from collections.abc import Sequence


class KnowledgeError(ValueError):
    """A knowledge file that says something untrue or unreadable.

    The message is one line, `file:line: where: what (did you mean ...?)`, for the first
    problem (and how many more there are); `problems` holds every one, in file order.
    """

    def __init__(self, problems: Sequence[str]):
        self.problems = list(problems)
        more = len(self.problems) - 1
        super().__init__(self.problems[0] + (f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""))


def did_you_mean(word: str, known: Sequence[str], listed: int = 8) -> str:
    """" (did you mean 'x'?)" for the closest known word, else the known words when they are
    few (" (expected one of: a, b)"), else ""."""
    close = difflib.get_close_matches(word, known, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    if 0 < len(known) <= listed:
        return f" (expected one of: {', '.join(sorted(known))})"
    return ""
