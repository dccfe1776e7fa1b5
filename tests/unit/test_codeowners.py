"""CODEOWNERS as GitHub reads it, and the owners it suggests for a service."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from incident_response.adapters.github.codeowners import parse

segment = st.from_regex(r"[a-z][a-z0-9_-]{0,8}", fullmatch=True)
owner = st.sampled_from(["@acme/payments", "@acme/web", "@ann", "bob@example.com", "@acme/sre"])


@given(st.lists(st.tuples(segment, owner), min_size=1, max_size=6), segment)
def test_the_last_matching_line_wins(rules: list[tuple[str, str]], file: str) -> None:
    text = "\n".join(f"/{directory}/ {who}" for directory, who in rules)
    codeowners = parse(text)
    for directory, _ in rules:
        expected = [who for d, who in rules if d == directory][-1]
        assert codeowners.owners_for(f"{directory}/{file}.go") == (expected,)


@given(segment, owner, owner)
def test_a_catch_all_after_a_specific_line_overrides_it(
    directory: str, specific: str, everyone: str
) -> None:
    codeowners = parse(f"/{directory}/ {specific}\n* {everyone}\n")
    assert codeowners.owners_for(f"{directory}/main.py") == (everyone,)
    codeowners = parse(f"* {everyone}\n/{directory}/ {specific}\n")
    assert codeowners.owners_for(f"{directory}/main.py") == (specific,)


@given(segment, segment, owner)
def test_an_unanchored_directory_matches_at_any_depth(
    parent: str, directory: str, who: str
) -> None:
    codeowners = parse(f"{directory}/ {who}")
    assert codeowners.owners_for(f"{directory}/x.txt") == (who,)
    assert codeowners.owners_for(f"{parent}/{directory}/deep/x.txt") == (who,)


@pytest.mark.parametrize(
    ("pattern", "path", "matches"),
    [
        ("*", "any/where/file.txt", True),
        ("*.js", "src/app/index.js", True),
        ("*.js", "src/app/index.ts", False),
        ("/docs/*", "docs/getting-started.md", True),
        ("/docs/*", "docs/build-app/troubleshooting.md", False),  # GitHub's documented example
        ("docs/*", "docs/a.md", True),
        ("apps/", "apps/web/index.ts", True),
        ("apps/", "lib/apps/web/index.ts", True),
        ("/build/logs/", "build/logs/a.log", True),
        ("/build/logs/", "src/build/logs/a.log", False),
        ("**/logs", "deeply/nested/logs/x.log", True),
        ("**/logs", "logs/x.log", True),
        ("/scripts/", "scripts/x.sh", True),
        ("/apps/github", "apps/github/x.rb", True),
        ("/apps/github", "apps/githubber/x.rb", False),
        ("docs/**", "docs/a/b/c.md", True),
        ("a?c.txt", "abc.txt", True),
        ("a?c.txt", "a/c.txt", False),
    ],
)
def test_patterns_match_as_github_documents(pattern: str, path: str, matches: bool) -> None:
    assert (parse(f"{pattern} @acme/x").owners_for(path) == ("@acme/x",)) is matches


def test_comments_blank_lines_and_escaped_hashes() -> None:
    codeowners = parse(
        "# owners of everything\n\n* @acme/everyone   # the catch-all\n\\#notes.txt @ann\n"
    )
    assert codeowners.owners_for("src/x.py") == ("@acme/everyone",)
    assert codeowners.owners_for("#notes.txt") == ("@ann",)
    assert codeowners.problems == ()


def test_negation_and_ranges_are_not_supported_and_are_skipped_with_a_reason() -> None:
    codeowners = parse("* @acme/all\n!/vendor/ @nobody\n/file[0-9].txt @ann\n")
    assert codeowners.owners_for("vendor/x.go") == ("@acme/all",)
    assert codeowners.owners_for("file1.txt") == ("@acme/all",)
    assert [p.split(":")[0] for p in codeowners.problems] == ["line 2", "line 3"]
    assert "negation" in codeowners.problems[0]


def test_a_line_without_owners_unowns_its_paths() -> None:
    codeowners = parse("* @acme/all\n/generated/\n")
    assert codeowners.owners_for("generated/x.pb.go") == ()
    assert codeowners.owners_for("src/x.go") == ("@acme/all",)


def test_a_line_with_an_invalid_owner_is_skipped() -> None:
    codeowners = parse("* @acme/all\n/src/ not-an-owner\n")
    assert codeowners.owners_for("src/x.go") == ("@acme/all",)
    assert "not an owner" in codeowners.problems[0]


SERVICE_FILE = """
* @acme/platform
/services/checkout/ @acme/payments ann@example.com
/services/checkout/docs/ @acme/docs
/services/checkout-admin/ @acme/admin
**/search/** @acme/search
apps/*/checkout/ @acme/unclear
"""


def test_a_service_is_owned_by_the_owners_of_its_directory() -> None:
    codeowners = parse(SERVICE_FILE)
    assert codeowners.service_directories("checkout") == ["services/checkout"]
    assert codeowners.service_owners("checkout") == ["@acme/payments", "ann@example.com"]
    assert codeowners.service_owners("search") == ["@acme/search"]
    assert codeowners.service_owners("checkout-admin") == ["@acme/admin"]


def test_a_service_codeowners_does_not_name_gets_no_owners_not_the_catch_all() -> None:
    assert parse(SERVICE_FILE).service_owners("billing") == []


def test_a_repository_named_after_the_service_is_owned_by_its_root_owners() -> None:
    codeowners = parse("* @acme/payments\ndocs/ @acme/docs\n")
    assert codeowners.service_owners("checkout", whole_repository=True) == ["@acme/payments"]


def test_a_later_catch_all_overrides_the_service_directory_as_on_github() -> None:
    codeowners = parse("/services/checkout/ @acme/payments\n* @acme/platform\n")
    assert codeowners.service_owners("checkout") == ["@acme/platform"]
