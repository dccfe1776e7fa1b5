"""Personal data and secrets taken out of text before it leaves the machine (to a hosted model).

Alert titles, labels, log lines and people's notes carry e-mail addresses, account ids, IP
addresses, internal hostnames and, now and then, a pasted token. None of that helps a model
write a status update, and all of it must stay inside. `strip_personal_data` replaces each with
a typed placeholder (`[email]`, `[ip]`, `[host]`, `[token]`, `[account]`, `[phone]`), so the
text still reads ("login failed for [email] from [ip]") and the model can say "an account"
without knowing whose.

The rules are regular expressions applied in order, most specific first (a URL's credentials
before the e-mail-like `pass@host` inside it, a JWT before the long-secret rule). Placeholders
contain nothing any rule matches, so stripping twice changes nothing. What must *survive* is as
important (service names, times, percentages, HTTP status codes, short commit hashes): the
corpus in tests/unit/privacy_corpus.yaml holds both sides.

Pure and fast: no I/O, compiled patterns, one pass per rule.
"""

from __future__ import annotations

import ipaddress
import math
import re
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

EMAIL = "[email]"
IP = "[ip]"
HOST = "[host]"
TOKEN = "[token]"
ACCOUNT = "[account]"
PHONE = "[phone]"
PLACEHOLDERS = (EMAIL, IP, HOST, TOKEN, ACCOUNT, PHONE)

Replacement = str | Callable[[re.Match[str]], str]


@dataclass(frozen=True)
class Rule:
    """One kind of personal data: what it looks like and what stands in for it."""

    name: str
    pattern: re.Pattern[str]
    replacement: Replacement


def _keep_label(placeholder: str) -> Callable[[re.Match[str]], str]:
    """Keep the `label` group (`password=`, `Bearer `), replace the value after it."""

    def replace(match: re.Match[str]) -> str:
        return match.group("label") + placeholder

    return replace


_OCTET = r"(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)"
_LABEL = r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
# suffixes only ever used inside a network (RFC 6762 .local, .internal, k8s .svc, AD's .corp)
_INTERNAL_SUFFIX = r"(?:internal|local|localdomain|corp|svc|lan|intranet|private|home\.arpa)"
# Kubernetes' "safe" alphabet for generated name suffixes: no vowels, no 0/1/3
_K8S = "bcdfghjklmnpqrstvwxz2456789"  # pragma: allowlist secret

# key=value secrets: the label survives so a reader knows what was there
_SECRET_LABEL = (
    r"(?:password|passwd|pwd|pass|secret|client[_-]?secret|api[_-]?key|apikey|access[_-]?key"
    r"|secret[_-]?key|private[_-]?key|access[_-]?token|refresh[_-]?token|id[_-]?token|auth[_-]?token"
    r"|session[_-]?(?:id|token)|token|sig|signature|x-amz-signature|x-amz-credential|credentials?)"
)
_ACCOUNT_LABEL = (
    r"(?:customer|tenant|account|acct|user|org|organi[sz]ation|member|merchant|workspace|team)"
    r"[ _-]?(?:id|uuid)"
)
_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"

RULES: tuple[Rule, ...] = (
    # https://user:pass@host -> https://[token]@host  # pragma: allowlist secret
    Rule(
        "url_credentials",
        re.compile(r"(?P<label>\b[a-z][a-z0-9+.-]*://)[^\s/@:]+:[^\s/@]+@", re.IGNORECASE),
        lambda m: m.group("label") + TOKEN + "@",
    ),
    Rule(
        "jwt",
        re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]*"),
        TOKEN,
    ),
    Rule(
        "vendor_key",
        re.compile(
            r"\b(?:xox[abposre]-[A-Za-z0-9-]{8,}|xapp-[A-Za-z0-9-]{8,}"
            r"|gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|glpat-[A-Za-z0-9_-]{16,}"
            r"|sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}|(?:sk|rk|pk)_(?:live|test)_[A-Za-z0-9]{10,}"
            r"|whsec_[A-Za-z0-9]{16,}|AIza[0-9A-Za-z_-]{30,}|npm_[A-Za-z0-9]{30,}"
            r"|SG\.[A-Za-z0-9_-]{16,}\.[A-Za-z0-9_-]{16,}|(?:AKIA|ASIA|AGPA|AIDA|AROA)[0-9A-Z]{16})\b"
        ),
        TOKEN,
    ),
    Rule(
        "bearer",
        re.compile(
            r"(?P<label>\b(?:bearer|basic|token|oauth)\s+)(?=[^\s]*[\d._~+/=-])[A-Za-z0-9._~+/=-]{12,}",
            re.IGNORECASE,
        ),
        _keep_label(TOKEN),
    ),
    Rule(
        "secret_value",
        re.compile(
            rf"(?P<label>\b{_SECRET_LABEL}\"?\s*[=:]\s*\"?)(?!\[)[^\s\"',;&)\]}}]{{4,}}",
            re.IGNORECASE,
        ),
        _keep_label(TOKEN),
    ),
    Rule(
        "email",
        re.compile(
            r"\b[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*"
            r"\.[A-Za-z]{2,}\b"
        ),
        EMAIL,
    ),
    Rule(
        "labelled_account",
        re.compile(
            rf"(?P<label>\b{_ACCOUNT_LABEL}\"?\s*[=:]\s*\"?)(?!\[)[A-Za-z0-9_-]*\d[A-Za-z0-9_-]*",
            re.IGNORECASE,
        ),
        _keep_label(ACCOUNT),
    ),
    Rule(
        "prefixed_account",
        re.compile(
            r"\b(?:acct|cus|sub|cs|pi|ch|pm|seti|card|ba|org|usr|user|conn|directory|dir)"
            r"_(?=[A-Za-z0-9]*\d)[A-Za-z0-9]{8,}\b"
        ),
        ACCOUNT,
    ),
    Rule(
        "slack_id",
        re.compile(r"\b[UWTE](?=[A-Z0-9]*\d)[A-Z0-9]{8,11}\b"),
        ACCOUNT,
    ),
    Rule(
        "aws_account",
        re.compile(r"(?<![\w.:/-])\d{12}(?![\w.-]|:\d)|(?<=::)\d{12}(?=:)"),
        ACCOUNT,
    ),
    Rule(
        "ec2_host",
        re.compile(
            r"\b(?:ip|ec2)-\d{1,3}-\d{1,3}-\d{1,3}-\d{1,3}(?:\.[a-z0-9-]+)*\b", re.IGNORECASE
        ),
        HOST,
    ),
    Rule(
        "aws_host",
        re.compile(
            rf"\b{_LABEL}(?:\.{_LABEL})*\.(?:rds|cache|elb|es|compute(?:-\d)?)"
            r"(?:\.[a-z0-9-]+)*\.amazonaws\.com\b",
            re.IGNORECASE,
        ),
        HOST,
    ),
    Rule(
        "internal_host",
        re.compile(rf"\b{_LABEL}(?:\.{_LABEL})*\.{_INTERNAL_SUFFIX}\b(?!\.\w)", re.IGNORECASE),
        HOST,
    ),
    Rule(
        "pod",
        re.compile(
            rf"\b[a-z][a-z0-9-]*?-(?=[{_K8S}-]*\d)[{_K8S}]{{8,10}}-[{_K8S}]{{5}}\b"
            rf"|\b[a-z][a-z0-9-]*?-(?=[{_K8S}]*\d)[{_K8S}]{{5}}\b(?=\s+(?:pod|container)\b)"
        ),
        HOST,
    ),
    Rule("ipv4", re.compile(rf"(?<![\w.]){_OCTET}(?:\.{_OCTET}){{3}}(?!\w|\.\d)"), IP),
    Rule(
        "uuid_account",  # an unlabelled UUID right after a word that says whose it is
        re.compile(
            rf"(?P<label>\b(?:customer|tenant|account|user|member|merchant)\s+){_UUID}\b",
            re.IGNORECASE,
        ),
        _keep_label(ACCOUNT),
    ),
    Rule(
        "phone",
        re.compile(
            r"(?<![\w+])\+\d{1,3}(?:[\s.-]?\(?\d{1,4}\)?){2,5}(?![\w.]|\.\d)"
            r"|(?<![\w+(])\(?\b\d{3}\)?[\s.-]\d{3}[\s.-]\d{4}\b"
        ),
        PHONE,
    ),
)

# Candidate IPv6 text (hex groups and colons), confirmed by the ipaddress module so that clock
# times ("09:05:00") and ratios never match.
_IPV6_CANDIDATE = re.compile(
    r"(?<![\w:.])(?:[0-9a-f]{0,4}:){2,7}(?:[0-9a-f]{1,4}|(?:\d{1,3}\.){3}\d{1,3})?"
    r"(?:%[\w.]+)?(?![\w:])",
    re.IGNORECASE,
)
# Long random-looking strings (AWS secret keys, API keys with no known prefix, base64 blobs)
_SECRET_CANDIDATE = re.compile(r"(?<![\w+/=.:-])[A-Za-z0-9+/_-]{32,}={0,2}")
_UUID_ONLY = re.compile(_UUID, re.IGNORECASE)
_HEX_SECRET = re.compile(r"(?<![\w-])[0-9a-fA-F]{32,}(?![\w-])")
_ENTROPY_BITS = 3.5  # per character: below it, too repetitive to be a generated secret
_WORDY_RUN = 3.0  # mean length of lowercase runs: CamelCase words ~5, random base64 ~1.7


def _ipv6(match: re.Match[str]) -> str:
    text = match.group(0)
    try:
        ipaddress.IPv6Address(text.split("%", 1)[0])
    except ValueError:
        return text
    return IP


def _entropy(text: str) -> float:
    counts = Counter(text)
    return -sum(n / len(text) * math.log2(n / len(text)) for n in counts.values())


def _looks_secret(text: str) -> bool:
    """Random-looking: several character classes and high entropy, not a path of words."""
    classes = sum(
        (
            any(c.isupper() for c in text),
            any(c.islower() for c in text),
            any(c.isdigit() for c in text),
        )
    )
    if _UUID_ONLY.fullmatch(text):
        return False  # an id (request, trace); ids that say whose they are go by their label
    if classes < 2 or text.startswith("/") or text.count("/") > 3 or text.count("-") > 4:
        return False
    runs = re.findall(r"[a-z]+", text)
    if runs and sum(map(len, runs)) / len(runs) >= _WORDY_RUN:
        return False  # CamelCase or snake_case words (a class name, a metric), not a secret
    return _entropy(text) >= _ENTROPY_BITS


def _secret(match: re.Match[str]) -> str:
    return TOKEN if _looks_secret(match.group(0)) else match.group(0)


def strip_personal_data(text: str) -> str:
    """`text` with e-mails, account ids, IP addresses, internal hostnames, tokens, secrets and
    phone numbers replaced by typed placeholders; everything else left exactly as it was."""
    for rule in RULES:
        text = rule.pattern.sub(rule.replacement, text)
    text = _IPV6_CANDIDATE.sub(_ipv6, text)
    text = _HEX_SECRET.sub(TOKEN, text)
    return _SECRET_CANDIDATE.sub(_secret, text)


def found_personal_data(text: str) -> list[str]:
    """The kinds of personal data `text` holds (empty: nothing to strip), for checks and logs."""
    kinds = [rule.name for rule in RULES if rule.pattern.search(text)]
    if any(_ipv6(m) == IP for m in _IPV6_CANDIDATE.finditer(text)):
        kinds.append("ipv6")
    if _HEX_SECRET.search(text) or any(
        _looks_secret(m.group(0)) for m in _SECRET_CANDIDATE.finditer(text)
    ):
        kinds.append("secret")
    return kinds


def replace_people(text: str, people: Mapping[str, str]) -> str:
    """Known people (e-mail, name or chat id -> role) replaced by their role in the incident,
    longest first so "Alice Smith" goes before "Alice"; whole words only, any case."""
    for who in sorted((p for p in people if p.strip()), key=len, reverse=True):
        pattern = re.compile(rf"(?<![\w.@-]){re.escape(who)}(?![\w@-]|\.\w)", re.IGNORECASE)
        text = pattern.sub(people[who], text)
    return text
