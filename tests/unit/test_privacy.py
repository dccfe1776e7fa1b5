"""strip_personal_data: a corpus of realistic lines (what must go, what must stay) and properties."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from incident_response.domain.privacy import (
    PLACEHOLDERS,
    found_personal_data,
    replace_people,
    strip_personal_data,
)

CORPUS: list[dict[str, Any]] = yaml.safe_load(
    (Path(__file__).parent / "privacy_corpus.yaml").read_text("utf-8")
)


def test_the_corpus_is_large_enough_to_mean_something() -> None:
    assert len(CORPUS) >= 60
    assert sum(1 for line in CORPUS if line["gone"]) >= 40
    assert sum(1 for line in CORPUS if not line["gone"]) >= 10  # lines that must not change


@pytest.mark.parametrize("line", CORPUS, ids=lambda line: line["text"][:50])
def test_corpus_line(line: dict[str, Any]) -> None:
    stripped = strip_personal_data(line["text"])
    for secret in line["gone"]:
        assert secret not in stripped, f"{secret!r} survived: {stripped!r}"
    for kept in line["kept"]:
        assert kept in stripped, f"{kept!r} was lost: {stripped!r}"
    if not line["gone"]:
        assert stripped == line["text"]
    else:
        assert any(p in stripped for p in PLACEHOLDERS), stripped


def test_placeholders_say_what_was_there() -> None:
    assert strip_personal_data("ops@acme.io from 10.1.2.3 on db.prod.internal") == (
        "[email] from [ip] on [host]"
    )
    assert strip_personal_data("token ghp_16C7e42F292c6912E7710c838347Ae178B4a") == "token [token]"
    assert strip_personal_data("account 123456789012") == "account [account]"


def test_found_personal_data_names_the_kinds() -> None:
    assert found_personal_data("all good at 09:05, 503s on checkout-api") == []
    assert found_personal_data("bob@acme.io from 10.1.2.3") == ["email", "ipv4"]


def test_known_people_become_their_roles() -> None:
    people = {"alice@acme.io": "the incident commander", "Alice Martin": "the incident commander"}
    text = "Alice Martin (alice@acme.io) took IC; ALICE MARTIN paged bob@acme.io"
    assert replace_people(text, people) == (
        "the incident commander (the incident commander) took IC; the incident commander "
        "paged bob@acme.io"
    )


def test_a_known_name_inside_another_word_is_left_alone() -> None:
    assert replace_people("Alicexyz and malice", {"Alice": "responder 1"}) == "Alicexyz and malice"


# -- properties ----------------------------------------------------------------------------------

WORDS = st.sampled_from(
    [
        "checkout-api",
        "503",
        "at",
        "09:05",
        "UTC",
        "12.5%",
        "failed",
        "for",
        "from",
        "p99",
        "latency",
        "2.3s",
        "the",
        "pod",
        "restarted",
        "Status",
        "update",
        "(HTTP",
        "429)",
        "v1.2.3",
    ]
)
NOISE = st.lists(WORDS, max_size=8).map(" ".join)
LOCAL = st.from_regex(r"[a-z][a-z0-9._+-]{0,14}[a-z0-9]", fullmatch=True)
DOMAIN = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9](\.[a-z]{2,6}){1,2}", fullmatch=True)
EMAILS = st.builds(lambda local, domain: f"{local}@{domain}", LOCAL, DOMAIN)
IPV4 = st.ip_addresses(v=4).map(str)
IPV6 = st.ip_addresses(v=6).map(str).filter(lambda ip: ":" in ip and len(ip) > 2)
HOSTS = st.builds(
    lambda name, suffix: f"{name}.{suffix}",
    st.from_regex(r"[a-z][a-z0-9-]{0,12}[a-z0-9]", fullmatch=True),
    st.sampled_from(["internal", "local", "corp", "svc", "svc.cluster.local"]),
)
TOKENS = st.one_of(
    st.builds(
        lambda prefix, body: prefix + body,
        st.sampled_from(["ghp_", "xoxb-1-", "sk-ant-", "github_pat_", "glpat-"]),
        st.from_regex(r"[A-Za-z0-9]{24}", fullmatch=True),
    ),
    st.from_regex(r"AKIA[A-Z0-9]{16}", fullmatch=True),
    st.from_regex(
        r"eyJ[A-Za-z0-9_-]{8,20}\.eyJ[A-Za-z0-9_-]{8,20}\.[A-Za-z0-9_-]{8,30}", fullmatch=True
    ),
)
PERSONAL = st.one_of(EMAILS, IPV4, IPV6, HOSTS, TOKENS)


@settings(max_examples=300, deadline=None)
@given(before=NOISE, secret=PERSONAL, after=NOISE)
def test_planted_personal_data_never_survives(before: str, secret: str, after: str) -> None:
    stripped = strip_personal_data(f"{before} {secret} {after}")
    assert secret not in stripped


@settings(max_examples=300, deadline=None)
@given(before=NOISE, secret=PERSONAL, after=NOISE)
def test_ordinary_words_around_it_survive(before: str, secret: str, after: str) -> None:
    stripped = strip_personal_data(f"{before} {secret} {after}")
    assert stripped.startswith(before)
    assert stripped.endswith(after)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=200), st.builds("{} {} {}".format, NOISE, PERSONAL, NOISE)))
def test_stripping_is_idempotent(text: str) -> None:
    once = strip_personal_data(text)
    assert strip_personal_data(once) == once


@settings(max_examples=200, deadline=None)
@given(text=NOISE)
def test_text_without_personal_data_is_unchanged(text: str) -> None:
    assert strip_personal_data(text) == text
