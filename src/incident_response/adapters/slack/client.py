"""The raw Slack clients: the one module that constructs slack_sdk clients.

Everything that talks to Slack's servers is built here from the token and `SLACK_API_URL`
(GovSlack and the test fake live on other hosts): the Web API client (`SlackWebApi`, also handed
to the Bolt app so the app never builds one of its own), the `response_url` poster and the Socket
Mode connection. `scripts/check_slack_clients.py` fails CI if another module builds one.

`SlackWebApi.call` turns every failure into `SlackCallFailed` with Slack's error code, so callers
decide on codes (`name_taken`, `ratelimited`, ...) and never on slack_sdk's exception types.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, cast

import aiohttp
from pydantic import SecretStr
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.webhook.async_client import AsyncWebhookClient

from incident_response.domain.errors import IncidentResponseError

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

DEFAULT_API_URL = "https://slack.com/api/"
RATE_LIMITED = "ratelimited"
TRANSPORT_ERROR = "transport_error"
# error codes Slack documents for its own trouble, whatever the HTTP status
SERVER_ERRORS = frozenset(
    {"internal_error", "fatal_error", "service_unavailable", "request_timeout"}
)


class SlackCallFailed(IncidentResponseError):
    """A Web API call that did not return `ok`: Slack's error code, the HTTP status and, for a
    429, the `Retry-After` seconds. `error` is `transport_error` when Slack was not reached."""

    def __init__(
        self,
        method: str,
        error: str,
        *,
        status: int = 0,
        retry_after: float | None = None,
        data: Mapping[str, Any] | None = None,
    ) -> None:
        super().__init__(
            f"Slack {method} failed: {error}" + (f" (HTTP {status})" if status else "")
        )
        self.method = method
        self.error = error
        self.status = status
        self.retry_after = retry_after
        self.data: dict[str, Any] = dict(data or {})

    @property
    def rate_limited(self) -> bool:
        return self.status == 429 or self.error == RATE_LIMITED

    @property
    def transient(self) -> bool:
        """Slack's trouble (HTTP 5xx, an unreachable server, a rate limit), worth trying again;
        an error code about the request (`user_not_found`, `not_in_channel`, ...) is not."""
        return (
            self.status >= 500
            or self.rate_limited
            or self.error.startswith(TRANSPORT_ERROR)
            or self.error in SERVER_ERRORS
        )


def _secret(value: SecretStr | str) -> str:
    return value.get_secret_value() if isinstance(value, SecretStr) else value


def _retry_after(headers: Mapping[str, Any] | None) -> float | None:
    for name, value in (headers or {}).items():
        if str(name).lower() == "retry-after":
            try:
                return max(float(value), 0.0)
            except (TypeError, ValueError):
                return None
    return None


class SlackWebApi:
    """One workspace's Web API over one shared HTTP session (no connection set-up per call).

    The session is opened lazily inside the running loop and closed by `aclose`. slack_sdk's own
    retry handlers are switched off: the pacer (pacing.py) is the one place that retries.
    """

    def __init__(
        self, *, token: SecretStr | str, base_url: str = DEFAULT_API_URL, timeout: float = 15
    ) -> None:
        self._token = _secret(token)
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._client: AsyncWebClient | None = None

    @property
    def base_url(self) -> str:
        return self._base_url

    @property
    def web_client(self) -> AsyncWebClient:
        """The slack_sdk client, for the Bolt app (which must not construct its own)."""
        if self._client is None:
            self._client = AsyncWebClient(
                token=self._token,
                base_url=self._base_url,
                timeout=int(self._timeout),
                session=self._session,
                retry_handlers=[],
            )
        return self._client

    def _ensure_session(self) -> AsyncWebClient:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                connector=aiohttp.TCPConnector(limit=200),
            )
            self.web_client.session = self._session
        return self.web_client

    async def call(self, method: str, params: Mapping[str, Any]) -> dict[str, Any]:
        """Call `method` (e.g. `chat.postMessage`) through slack_sdk's typed method, so each is
        sent with the HTTP verb and encoding the SDK (and Slack) use for it."""
        client = self._ensure_session()
        function = getattr(client, method.replace(".", "_"), None)
        if function is None:
            raise SlackCallFailed(method, "unknown_method")
        send = cast(Callable[..., Awaitable[Any]], function)
        try:
            response = await send(**params)
        except SlackApiError as exc:
            data = exc.response.data if isinstance(exc.response.data, dict) else {}
            raise SlackCallFailed(
                method,
                str(data.get("error") or "unknown_error"),
                status=int(exc.response.status_code or 0),
                retry_after=_retry_after(exc.response.headers),
                data=data,
            ) from None
        except (TimeoutError, aiohttp.ClientError, SlackClientError, OSError) as exc:
            raise SlackCallFailed(method, f"{TRANSPORT_ERROR}: {type(exc).__name__}") from exc
        data = response.data
        return dict(data) if isinstance(data, dict) else {"ok": True}

    async def respond(self, response_url: str, body: Mapping[str, Any]) -> None:
        """Post to an interaction's `response_url` (valid 30 minutes, 5 times)."""
        self._ensure_session()
        hook = AsyncWebhookClient(response_url, timeout=int(self._timeout), session=self._session)
        try:
            result = await hook.send_dict(dict(body))
        except (TimeoutError, aiohttp.ClientError, SlackClientError, OSError) as exc:
            raise SlackCallFailed("response_url", f"transport_error: {type(exc).__name__}") from exc
        if result.status_code >= 300:
            raise SlackCallFailed("response_url", result.body or "error", status=result.status_code)

    async def aclose(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()
        self._session = None


def socket_mode_handler(app: AsyncApp, *, app_token: SecretStr | str) -> AsyncSocketModeHandler:
    """The Socket Mode connection for the Bolt app; it opens its WebSocket with the app's client,
    so `apps.connections.open` goes to `SLACK_API_URL` too."""
    return AsyncSocketModeHandler(app, app_token=_secret(app_token))
