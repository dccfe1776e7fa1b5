"""Text people and machines hand us, cleaned where it enters so every document it reaches stays
well-formed and reads as it looks.

Pasted text brings invisible characters: control characters (a vertical tab from a word
processor, a NUL from a terminal) that XML 1.0 forbids, so one of them in an approved update
would break the Atom feed for good; and bidirectional or zero-width controls that make a title
display differently from what it says ("Trojan Source"). They carry no meaning we keep, so they
are *removed*, not refused: refusing would make an IC in the middle of an incident hunt for a
character they cannot see. What remains is checked as before, so text that cleans down to
nothing is refused as empty. Lone surrogates (`\\ud800`, possible only through JSON escapes) are
*refused* by the callers' checks instead: they mean the sender's encoding is broken, and
guessing what was meant would change the text silently.

- `clean_text` (bodies, reasons: several lines): CRLF and CR become LF; C0 and C1 controls go
  except newline and tab; bidi embedding, override and isolate controls go; so do U+FFFE and
  U+FFFF, which XML forbids.
- `clean_line` (titles, component names: one line): all of that, plus zero-width characters,
  the LRM/RLM/ALM marks, and every run of whitespace (newlines and tabs included) collapsed to
  one space, trimmed.
- `xml_text`: for documents rendered from text stored before cleaning existed: drops whatever
  XML 1.0 cannot carry, whatever is in the database.
- `shortened`: a long title cut for display with an ellipsis; the incident keeps the full text.
"""

from __future__ import annotations

import re

# C0 controls except tab (09) and newline (0A), DEL, C1 controls; CR is normalised first
_CONTROLS = "\x00-\x08\x0b-\x1f\x7f-\x9f"
# embedding/override (LRE, RLE, PDF, LRO, RLO) and isolates (LRI, RLI, FSI, PDI)
_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
# the two BMP noncharacters XML 1.0 excludes from its Char production
_NONCHARACTERS = "\ufffe\uffff"
# zero-width space / non-joiner / joiner, word joiner, BOM; LRM, RLM, Arabic letter mark
_INVISIBLE = "\u200b-\u200d\u2060\ufeff\u200e\u200f\u061c"

_BODY_REMOVED = re.compile(f"[{_CONTROLS}{_BIDI_CONTROLS}{_NONCHARACTERS}]")
_LINE_REMOVED = re.compile(f"[{_CONTROLS}{_BIDI_CONTROLS}{_NONCHARACTERS}{_INVISIBLE}]")
_LINE_BREAKS = re.compile(r"\r\n?")
# everything XML 1.0 cannot carry: C0 except tab/LF/CR, surrogates, U+FFFE/U+FFFF
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")

DISPLAY_TITLE_CHARS = 120
ELLIPSIS = "\u2026"


def encodable(text: str) -> bool:
    """Whether `text` can be stored and sent as UTF-8 (False for lone surrogates such as
    `\\ud800`, which JSON allows and nothing downstream can keep)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def clean_text(text: str) -> str:
    """A multi-line text (a status update's body, a reason) without invisible controls."""
    return _BODY_REMOVED.sub("", _LINE_BREAKS.sub("\n", text))


def clean_line(text: str) -> str:
    """A one-line text (an incident or alert title, a component name): no controls, no
    invisible characters, whitespace collapsed to single spaces, trimmed."""
    return " ".join(_LINE_REMOVED.sub("", _LINE_BREAKS.sub("\n", text)).split())


def xml_text(text: str) -> str:
    """`text` without the characters XML 1.0 forbids, so a rendered document always parses."""
    return _NOT_XML.sub("", text)


def shortened(text: str, limit: int = DISPLAY_TITLE_CHARS) -> str:
    """`text` cut to at most `limit` characters for display, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS
