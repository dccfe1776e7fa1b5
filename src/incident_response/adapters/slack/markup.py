"""From the core's text to Slack mrkdwn: everything is text except the mentions we made.

Alert titles, labels and annotations, drafts and people's notes reach Slack inside messages the
core composes; in mrkdwn, `<!channel>`, `<!here>`, `<@U123>` and `<https://evil|Runbook>` in that
text would ping everyone, ping someone or disguise a link. So every `&`, `<` and `>` is escaped,
in blocks, confirm dialogs and the notification text alike. The one markup the core may carry is
a mention made by `Chat.mention`: `SlackMarkup.mention` returns a token wrapped in private-use
characters and a random per-process mark no alert can know, and `render` turns only those tokens
back into `<@U123>`. Stray private-use characters are dropped.
"""

from __future__ import annotations

import re
import secrets

from incident_response.domain.people import Person

OPEN, CLOSE = "\ue000", "\ue001"


def escape(text: str) -> str:
    """Slack's escaping of text: `&`, `<` and `>` only."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class SlackMarkup:
    def __init__(self, mark: str | None = None) -> None:
        self._mark = mark or secrets.token_hex(8)
        self._token = re.compile(
            re.escape(OPEN + self._mark) + r"([A-Z0-9][A-Z0-9._-]{0,40})" + re.escape(CLOSE)
        )

    def user(self, chat_id: str) -> str:
        """A mention of a Slack user id that `render` turns into `<@id>`."""
        return f"{OPEN}{self._mark}{chat_id}{CLOSE}"

    def mention(self, person: Person) -> str:
        """A mention Slack notifies the person for, or their name when they have no Slack id."""
        if person.chat_id:
            return self.user(person.chat_id)
        return person.name or person.email

    def render(self, text: str) -> str:
        """`text` as mrkdwn in which only this markup's own mentions are markup."""
        linked = self._token.sub(r"<@\1>", escape(text))
        return linked.replace(OPEN, "").replace(CLOSE, "")

    def plain(self, text: str) -> str:
        """`text` for plain-text places (button labels, modal titles): mentions as ids."""
        return self._token.sub(r"@\1", text).replace(OPEN, "").replace(CLOSE, "")
