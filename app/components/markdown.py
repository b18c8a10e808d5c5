"""Text from people or data shown in Markdown exactly as written."""

from __future__ import annotations

import re

_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~:$<>])")


def plain(text: str) -> str:
    """Text typed by people or taken from data (messages, questions, names), escaped so Markdown shows it as
    written: no headings, emphasis, links, colour directives or formulas from a source restyle the page."""
    return _SPECIAL.sub(r"\\\1", text)


def plain_lines(text: str) -> str:
    """`plain`, keeping the text's line breaks (Markdown joins single newlines into one paragraph)."""
    return plain(text).replace("\n", "  \n")
