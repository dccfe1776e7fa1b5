"""CODEOWNERS: parsing, matching a path, and the owners of a service.

Matching follows GitHub's documented rules, which are gitignore's with exceptions: the LAST
matching line wins; `#` starts a comment (`\\#` is a literal `#` in a pattern); `!` negation
and `[ ]` character ranges are not supported (such a line is reported and skipped, as GitHub
skips it); a line with a pattern and no owners leaves those paths without owners. A pattern
starting with `/` or holding a `/` before its end is anchored at the repository root, otherwise
it matches at any depth; `*` and `?` stay inside one path segment, `**` spans segments; a
trailing `/` matches a directory's contents only; a pattern whose last segment has no wildcard
also matches everything under a directory of that name (`docs/*` covers `docs/a.md`, not
`docs/sub/b.md`). Owners are `@user`, `@org/team` or an e-mail address.

The owners of a service (the rule, documented in docs/integrations/github.md): in a repository
named after the service (`checkout`, `checkout-api`, `acme-checkout`) the owners of a file at its
root; in any other repository, the owners of a file directly inside each directory a CODEOWNERS
pattern names by the service's name as a whole path segment (`/services/checkout/`,
`checkout/`, `apps/checkout/**`). Both are answered by the file's own precedence (last match
wins), so a later, more specific line overrides an earlier catch-all as it does on GitHub.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# a file name no CODEOWNERS pattern is written for: what "a file in that directory" means
PROBE_FILE = "__any_file__"
_OWNER = re.compile(r"@[A-Za-z0-9](?:[A-Za-z0-9-]*)(?:/[A-Za-z0-9._-]+)?|[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Rule:
    pattern: str
    owners: tuple[str, ...]
    line: int
    regex: re.Pattern[str]


@dataclass(frozen=True)
class Codeowners:
    rules: tuple[Rule, ...]
    problems: tuple[str, ...] = ()

    def owners_for(self, path: str) -> tuple[str, ...]:
        """The owners of `path` (relative to the repository root): the last matching rule's."""
        path = path.lstrip("/")
        for rule in reversed(self.rules):
            if rule.regex.fullmatch(path):
                return rule.owners
        return ()

    def service_directories(self, service: str) -> list[str]:
        """Directories the patterns name by `service` as a whole path segment, in file order."""
        wanted = service.strip().lower()
        found: list[str] = []
        if not wanted or "/" in wanted:
            return found
        for rule in self.rules:
            segments = [s for s in rule.pattern.strip("/").split("/") if s]
            while segments and segments[0] == "**":
                segments.pop(0)
            for index, segment in enumerate(segments):
                if segment.lower() != wanted:
                    continue
                prefix = segments[: index + 1]
                if any(_has_wildcard(s) for s in prefix):
                    break
                directory = "/".join(prefix)
                if directory not in found:
                    found.append(directory)
                break
        return found

    def service_owners(self, service: str, *, whole_repository: bool = False) -> list[str]:
        """The owners of `service` by the rule in the module docstring."""
        if whole_repository:
            return list(self.owners_for(PROBE_FILE))
        owners: list[str] = []
        for directory in self.service_directories(service):
            for owner in self.owners_for(f"{directory}/{PROBE_FILE}"):
                if owner not in owners:
                    owners.append(owner)
        return owners


def parse(text: str) -> Codeowners:
    """Read a CODEOWNERS file; lines GitHub would skip are skipped and listed in `problems`."""
    rules: list[Rule] = []
    problems: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        tokens = _tokens(raw)
        if not tokens:
            continue
        pattern, owners = tokens[0], tuple(tokens[1:])
        if pattern.startswith("!"):
            problems.append(f"line {number}: negation ('!') is not supported in CODEOWNERS")
            continue
        if "[" in pattern.replace("\\[", ""):
            problems.append(f"line {number}: character ranges ('[ ]') are not supported")
            continue
        bad = [o for o in owners if not _OWNER.fullmatch(o)]
        if bad:
            problems.append(f"line {number}: not an owner: {', '.join(bad)}")
            continue
        rules.append(Rule(pattern, owners, number, _compile(pattern)))
    return Codeowners(tuple(rules), tuple(problems))


def _tokens(line: str) -> list[str]:
    """Whitespace-separated tokens up to a comment; `\\#` and `\\ ` are literal in a pattern."""
    tokens: list[str] = []
    for match in re.finditer(r"(?:\\.|\S)+", line):
        token = match.group(0)
        if token.startswith("#"):
            break
        tokens.append(token)
    if tokens:
        tokens[0] = re.sub(r"\\(.)", r"\1", tokens[0])
    return tokens


def _has_wildcard(segment: str) -> bool:
    return any(c in segment for c in "*?")


def _compile(pattern: str) -> re.Pattern[str]:
    directory_only = pattern.endswith("/")
    body = pattern.strip("/")
    anchored = pattern.startswith("/") or "/" in body
    out: list[str] = []
    index = 0
    while index < len(body):
        if body.startswith("**/", index):
            out.append("(?:.*/)?")
            index += 3
        elif body.startswith("**", index):
            out.append(".*")
            index += 2
        elif body[index] == "*":
            out.append("[^/]*")
            index += 1
        elif body[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(re.escape(body[index]))
            index += 1
    regex = ("" if anchored else "(?:.*/)?") + "".join(out)
    last = body.rsplit("/", 1)[-1]
    if directory_only:
        regex += "/.*"
    elif not _has_wildcard(last):
        regex += "(?:/.*)?"
    return re.compile(regex, re.DOTALL)
