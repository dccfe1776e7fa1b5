"""Text handed to us (pasted updates, alert titles) loses the invisible characters that break
documents or disguise what a title says; long titles are shortened only where they are shown."""

from __future__ import annotations

import unicodedata
from xml.etree import ElementTree as ET

from hypothesis import given, settings
from hypothesis import strategies as st

from incident_response.domain.approval import edited_fields
from incident_response.domain.text import (
    DISPLAY_TITLE_CHARS,
    clean_line,
    clean_text,
    shortened,
    xml_text,
)

BIDI_CONTROLS = "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
MARKS = "\u200e\u200f\u061c"
PASTED = "We are investigating.\u000b (pasted)\u0000 \u202eevil"

# arbitrary Unicode without lone surrogates, salted with the characters that cause trouble
HOSTILE = st.text(
    st.one_of(
        st.characters(exclude_categories=["Cs"]),
        st.sampled_from(
            [
                *BIDI_CONTROLS,
                *ZERO_WIDTH,
                *MARKS,
                "\r",
                "\n",
                "\t",
                "\x0b",
                "\x00",
                "\x85",
                "\ufffe",
            ]
        ),
    ),
    max_size=300,
)


def is_control(char: str) -> bool:
    return unicodedata.category(char) == "Cc"


def test_a_pasted_body_loses_its_control_and_bidi_characters_but_keeps_its_lines() -> None:
    assert clean_text(PASTED) == "We are investigating. (pasted) evil"
    assert clean_text("Line one\r\nLine two\rLine three\n\tindented") == (
        "Line one\nLine two\nLine three\n\tindented"
    )
    assert (
        clean_text("caf\u00e9 \u2014 \u65e5\u672c \U0001f525")
        == "caf\u00e9 \u2014 \u65e5\u672c \U0001f525"
    )


def test_a_title_is_one_line_without_invisible_characters() -> None:
    assert clean_line("  Checkout\u202e 5xx\u200b\nerrors\t\u200f(eu-west)\x00  ") == (
        "Checkout 5xx errors (eu-west)"
    )
    assert clean_line("\u202e\u200b\n\t ") == ""


def test_an_edit_cleans_the_body_title_and_components_before_checking_them() -> None:
    changes, problems = edited_fields(
        body=PASTED, title="Partial\u202e outage:\n Checkout\u200b", components=["Check\u200dout "]
    )

    assert problems == ()
    assert changes["body"] == "We are investigating. (pasted) evil"
    assert changes["title"] == "Partial outage: Checkout"
    assert [c.name for c in changes["components"]] == ["Checkout"]


def test_text_that_cleans_down_to_nothing_is_refused_as_empty() -> None:
    _, problems = edited_fields(body="\x00\u202e\x0b", title="\u200b\u2066")
    assert problems == ("the text is empty", "the public incident name is empty")


def test_a_lone_surrogate_is_refused_not_guessed_at() -> None:
    _, problems = edited_fields(body="We are \ud800 investigating", title="Outage \udfff")
    assert problems == (
        "the text contains characters that are not valid Unicode",
        "the public incident name contains characters that are not valid Unicode",
    )


def test_stored_text_is_made_fit_for_xml_at_render_time() -> None:
    element = ET.Element("content")
    element.text = xml_text("stored before cleaning\x0b\x00\x1f \ufffe\uffff ok\t\n")
    parsed = ET.fromstring(ET.tostring(element, encoding="utf-8"))
    assert parsed.text == "stored before cleaning  ok\t\n"


def test_a_long_title_is_shortened_for_display_with_an_ellipsis() -> None:
    long = "Checkout " + "very " * 60 + "slow"
    short = shortened(long)
    assert len(short) <= DISPLAY_TITLE_CHARS
    assert short.endswith("\u2026")
    assert long.startswith(short[:-1])
    assert shortened("Checkout errors") == "Checkout errors"
    assert shortened("x" * DISPLAY_TITLE_CHARS) == "x" * DISPLAY_TITLE_CHARS


@settings(max_examples=200, deadline=None)
@given(HOSTILE)
def test_cleaned_titles_never_hold_bidi_zero_width_or_control_characters(raw: str) -> None:
    title = clean_line(raw)
    assert not any(is_control(c) or c in BIDI_CONTROLS + ZERO_WIDTH + MARKS for c in title)
    assert title == title.strip()
    assert "  " not in title
    assert clean_line(title) == title


@settings(max_examples=200, deadline=None)
@given(HOSTILE)
def test_cleaned_bodies_keep_only_newline_and_tab_and_always_fit_in_xml(raw: str) -> None:
    body = clean_text(raw)
    assert {c for c in body if is_control(c)} <= {"\n", "\t"}
    assert not any(c in BIDI_CONTROLS for c in body)
    assert clean_text(body) == body
    element = ET.Element("content")
    element.text = body
    assert ET.fromstring(ET.tostring(element, encoding="utf-8")).text == (body or None)


@settings(max_examples=200, deadline=None)
@given(HOSTILE, st.integers(min_value=1, max_value=200))
def test_shortened_text_fits_its_limit(raw: str, limit: int) -> None:
    short = shortened(raw, limit)
    assert len(short) <= limit
    assert short == raw or short.endswith("\u2026")
