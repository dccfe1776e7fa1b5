"""People in Slack's message markup, both ways.

Out: the core names a person through `Chat.mention` (markup.py renders it as `<@U123>`).
In: Slack delivers a picked user as `<@U123|name>` and a typed e-mail as `<mailto:a@b|a@b>` in
a slash command's text; the core's commands read people as an e-mail, `@chat-id` or a name, so
the command text is made plain before it reaches the CommandRegistry.
"""

from __future__ import annotations

import re

# `<@U123>` or `<@U123|label>`: Slack's escaped user mention
USER_MENTION = re.compile(r"<@([A-Z0-9][A-Z0-9._-]*)(?:\|[^>]*)?>")
# `<mailto:a@b.c|a@b.c>`: how Slack sends a typed e-mail address
MAILTO = re.compile(r"<mailto:([^|>]+)(?:\|[^>]*)?>")
# `<https://x.example/runbook|x.example/runbook>`: a typed link
LINK = re.compile(r"<(https?://[^|>]+)(?:\|[^>]*)?>")
# `<#C0123|war-room>`: a typed channel
CHANNEL = re.compile(r"<#([A-Z0-9]+)(?:\|([^>]*))?>")
# Slack escapes these three in all text it sends; `&amp;` last, so `&amp;lt;` stays `&lt;`
ESCAPES = (("&lt;", "<"), ("&gt;", ">"), ("&amp;", "&"))


def _channel(found: re.Match[str]) -> str:
    return "#" + (found.group(2) or found.group(1))


def plain_command_text(text: str) -> str:
    """Slash-command text with Slack's markup made plain: `<@U123|ann>` becomes `@U123` (a chat
    id the directory knows), `<mailto:a@b|a@b>` becomes `a@b`, a link its address, a channel
    `#name`, and the `&amp;` `&lt;` `&gt;` Slack escapes become `&` `<` `>` again (a note or a
    maintenance text reaches the timeline and the status page as it was typed)."""
    plain = USER_MENTION.sub(r"@\1", text)
    plain = MAILTO.sub(r"\1", plain)
    plain = LINK.sub(r"\1", plain)
    plain = CHANNEL.sub(_channel, plain)
    for escaped, character in ESCAPES:
        plain = plain.replace(escaped, character)
    return plain
