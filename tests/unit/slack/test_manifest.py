"""The Slack app manifest grants exactly the scopes the adapter's calls and events need, and
declares the command and events the front end listens to."""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

from incident_response.adapters.slack.front import EVENTS, SLASH_COMMAND

ROOT = Path(__file__).resolve().parents[3]
MANIFEST = ROOT / "deploy" / "slack" / "manifest.yaml"
ADAPTER = ROOT / "src" / "incident_response" / "adapters" / "slack"

# Slack's method reference: the bot scopes each method (or event) requires, for the channel
# kinds the app uses (private war rooms, the public announcements channel, direct messages).
SCOPES_OF = {
    "auth.test": set(),
    "bookmarks.add": {"bookmarks:write"},
    "bookmarks.edit": {"bookmarks:write"},
    "bookmarks.list": {"bookmarks:read"},
    "chat.postEphemeral": {"chat:write"},
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "conversations.archive": {"channels:manage", "groups:write"},
    "conversations.create": {"channels:manage", "groups:write"},
    "conversations.history": {"channels:history", "groups:history", "im:history"},
    "conversations.invite": {"groups:write"},
    "conversations.join": {"channels:join"},
    "conversations.list": {"channels:read", "groups:read"},
    "conversations.open": {"im:write"},
    "conversations.setTopic": {"channels:manage", "groups:write"},
    "pins.add": {"pins:write"},
    "users.info": {"users:read", "users:read.email"},
    "users.lookupByEmail": {"users:read.email"},
    "views.open": set(),
    "event:pin_added": {"pins:read"},
    "event:reaction_added": {"reactions:read"},
    "command": {"commands"},
}


def called_methods() -> set[str]:
    """Web API methods the adapter sends: `<pacer>.call("x.y", ...)` and coalesced updates."""
    found: set[str] = set()
    for path in ADAPTER.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Attribute):
                continue
            if node.func.attr == "update_message":
                found.add("chat.update")
            elif (
                node.func.attr == "call"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                found.add(node.args[0].value)
    return found


def test_every_call_and_event_has_its_scope_and_no_scope_is_spare() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    granted = set(manifest["oauth_config"]["scopes"]["bot"])
    needs = called_methods() | {f"event:{e}" for e in EVENTS} | {"command"}
    unknown = needs - SCOPES_OF.keys()
    assert not unknown, f"add the scopes of {unknown} to this test and the manifest"
    required = set().union(*(SCOPES_OF[n] for n in needs))
    assert granted == required


def test_the_command_events_and_interactivity_match_the_front_end() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    [command] = manifest["features"]["slash_commands"]
    settings = manifest["settings"]
    assert command["command"] == SLASH_COMMAND
    assert command["url"].endswith("/slack/commands")
    assert tuple(settings["event_subscriptions"]["bot_events"]) == EVENTS
    assert settings["event_subscriptions"]["request_url"].endswith("/slack/events")
    assert settings["interactivity"]["is_enabled"] is True
    assert settings["interactivity"]["request_url"].endswith("/slack/interactivity")
    assert settings["socket_mode_enabled"] is True
