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


def plain_command_text(text: str) -> str:
    """Slash-command text with Slack's user and e-mail markup made plain: `<@U123|ann>` becomes
    `@U123` (a chat id the directory knows) and `<mailto:a@b|a@b>` becomes `a@b`."""
    return MAILTO.sub(r"\1", USER_MENTION.sub(r"@\1", text))
