"""Webhook subscriptions to the public status page: subscribe, fan out, deliver, give up.

Who subscribes: an approver, over the API (`Action.MANAGE_STATUS_PAGE`). Not the public page:
a public form that makes this service POST to any address a stranger types is an SSRF and
amplification tool even behind a confirmation step (the confirmation request is itself the
request the attacker wanted sent). Anonymous readers have the Atom feed; a partner's system is
registered by someone who answers for it. Even so the address is checked as hostile
(`domain.subscriptions`): http(s) only, no credentials, every resolved address public unless
INCIDENT_RESPONSE_STATUS_WEBHOOK_ALLOW_PRIVATE, checked again before every delivery (a name can
be re-pointed after it was accepted), redirects never followed; at most MAX_SUBSCRIBERS, and
MAX_SUBSCRIPTIONS_PER_HOUR per person.

How a published update reaches them, with nothing lost to a crash:
1. the StatusUpdateGate calls `published` after it recorded the publication and before it marks
   the draft PUBLISHED: it queues one STATUS_UPDATE_PUBLISHED message holding the approved
   content (a crash before that leaves the draft APPROVED, and the gate's recovery calls it
   again; the message is deduplicated by the publish key);
2. its handler (`fan_out`) writes one delivery row per active subscriber, then queues one
   STATUS_WEBHOOK_DELIVERY message per row (in the subscriber's own FIFO group, so one slow
   receiver delays only itself, and its updates arrive in order);
3. its handler (`deliver`) makes one signed POST; on failure it records the try and raises, so
   the processor retries the message with exponential backoff; the `max_tries`-th failure is
   recorded as given up and the message finishes. A delivered or given-up row is never sent
   again, whatever the queue redelivers.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any, Protocol
from urllib.parse import urlsplit

from incident_response.domain.authority import Action
from incident_response.domain.clock import Clock, isoformat
from incident_response.domain.context import PublishedUpdate
from incident_response.domain.errors import IncidentResponseError, NotFound
from incident_response.domain.messages import QueueMessage
from incident_response.domain.public import effective_status
from incident_response.domain.status_update import StatusDraft
from incident_response.domain.subscriptions import (
    MAX_SUBSCRIBERS,
    MAX_SUBSCRIPTIONS_PER_HOUR,
    Delivery,
    DeliveryState,
    IpAddress,
    Subscriber,
    address_problems,
    event_of,
    literal_address,
    signed_headers,
    update_document,
    url_problems,
)
from incident_response.ports import EventQueue
from incident_response.services.authority import Authority
from incident_response.telemetry.logging import get_logger

log = get_logger(__name__)

STATUS_UPDATE_PUBLISHED = "STATUS_UPDATE_PUBLISHED"
STATUS_WEBHOOK_DELIVERY = "STATUS_WEBHOOK_DELIVERY"
FAN_OUT_GROUP = "status-subscribers"


class SubscriptionRefused(IncidentResponseError):
    """The subscription cannot be made (bad or private address, too many); nothing was stored."""


class DeliveryFailed(IncidentResponseError):
    """One try failed; the queue tries again later (the message is retried with backoff)."""


class SubscriberStore(Protocol):
    async def add(self, subscriber: Subscriber) -> None: ...
    async def get(self, subscriber_id: str) -> Subscriber | None: ...
    async def active(self) -> list[Subscriber]: ...
    async def created_since(self, email: str, since: datetime) -> int: ...
    async def remove(self, subscriber_id: str, at: datetime) -> bool: ...
    async def add_delivery(self, delivery: Delivery, at: datetime) -> Delivery: ...
    async def delivery(self, subscriber_id: str, key: str) -> Delivery | None: ...
    async def record_attempt(
        self, delivery: Delivery, *, state: DeliveryState, error: str, at: datetime
    ) -> Delivery: ...


class WebhookSender(Protocol):
    """The outbound side (an adapter on the one HTTP policy)."""

    async def resolve(self, host: str) -> Sequence[IpAddress]:
        """Every address `host` resolves to (empty when it resolves to none)."""
        ...

    async def post(self, subscriber: Subscriber, body: bytes, headers: Mapping[str, str]) -> None:
        """One POST of exactly `body`, no redirect followed; raises unless answered 2xx."""
        ...


class StatusSubscriptions:
    def __init__(
        self,
        *,
        store: SubscriberStore,
        queue: EventQueue,
        sender: WebhookSender,
        authority: Authority,
        clock: Clock,
        page: Mapping[str, str],
        max_tries: int = 5,
        allow_private: bool = False,
    ) -> None:
        self._store = store
        self._queue = queue
        self._sender = sender
        self._authority = authority
        self._clock = clock
        self._page = dict(page)
        self._max_tries = max_tries
        self._allow_private = allow_private

    # -- managing subscribers (approvers) ----------------------------------------------------

    async def subscribe(self, url: str, *, actor: str) -> Subscriber:
        """A new subscriber with its own signing secret (returned once, here)."""
        await self._authority.require(Action.MANAGE_STATUS_PAGE, None, actor)
        url = url.strip()
        await self._check_address(url)
        if len(await self._store.active()) >= MAX_SUBSCRIBERS:
            raise SubscriptionRefused(
                f"the page has {MAX_SUBSCRIBERS} subscribers already; remove one first"
            )
        since = self._clock.now() - timedelta(hours=1)
        if await self._store.created_since(actor, since) >= MAX_SUBSCRIPTIONS_PER_HOUR:
            raise SubscriptionRefused(
                f"{actor} made {MAX_SUBSCRIPTIONS_PER_HOUR} subscriptions in the last hour; "
                "try again later"
            )
        subscriber = Subscriber(
            id="sub_" + secrets.token_hex(8),
            url=url,
            secret=secrets.token_urlsafe(32),
            created_by=actor,
            created_at=self._clock.now(),
        )
        await self._store.add(subscriber)
        log.info("status_webhook.subscribed", subscriber_id=subscriber.id, by=actor)
        return subscriber

    async def subscribers(self, *, actor: str) -> list[Subscriber]:
        await self._authority.require(Action.MANAGE_STATUS_PAGE, None, actor)
        return await self._store.active()

    async def unsubscribe(self, subscriber_id: str, *, actor: str) -> None:
        await self._authority.require(Action.MANAGE_STATUS_PAGE, None, actor)
        if not await self._store.remove(subscriber_id, self._clock.now()):
            raise NotFound(f"there is no subscriber {subscriber_id}")
        log.info("status_webhook.unsubscribed", subscriber_id=subscriber_id, by=actor)

    async def delivery(self, subscriber_id: str, key: str) -> Delivery | None:
        return await self._store.delivery(subscriber_id, key)

    # -- the gate's listener and the two queue handlers ----------------------------------------

    async def published(self, draft: StatusDraft, update: PublishedUpdate) -> None:
        """Queue the fan-out of one published update (called by the StatusUpdateGate)."""
        content: dict[str, Any] = {
            **draft.public_content(),
            "components": [
                {"name": c.name, "status": effective_status(c, draft.impact).value}
                for c in draft.components
            ],
        }
        facts = {
            "key": update.key,
            "status_page_incident_id": update.status_page_incident_id,
            "update_id": update.update_id,
            "url": update.url,
            "published_at": isoformat(update.published_at),
        }
        await self._queue.send(
            QueueMessage(
                type=STATUS_UPDATE_PUBLISHED,
                payload={"content": content, "facts": facts, "kind": draft.kind.value},
            ),
            group_id=FAN_OUT_GROUP,
            dedup_id=f"published:{update.key}",
        )

    async def fan_out(self, payload: Mapping[str, Any]) -> None:
        """One delivery per active subscriber, recorded, then queued."""
        facts, kind = payload["facts"], str(payload.get("kind", "update"))
        body = update_document(page=self._page, content=payload["content"], facts=facts, kind=kind)
        for subscriber in await self._store.active():
            delivery = await self._store.add_delivery(
                Delivery(subscriber_id=subscriber.id, key=str(facts["key"]), body=body),
                self._clock.now(),
            )
            if delivery.state is not DeliveryState.PENDING:
                continue
            await self._queue.send(
                QueueMessage(
                    type=STATUS_WEBHOOK_DELIVERY,
                    payload={"subscriber_id": subscriber.id, "key": delivery.key, "kind": kind},
                ),
                group_id=f"subscriber-{subscriber.id}",
                dedup_id=f"delivery:{delivery.id}",
            )

    async def deliver(self, payload: Mapping[str, Any]) -> None:
        """One signed try; raises DeliveryFailed so the queue retries it with backoff."""
        subscriber_id, key = str(payload["subscriber_id"]), str(payload["key"])
        delivery = await self._store.delivery(subscriber_id, key)
        subscriber = await self._store.get(subscriber_id)
        if delivery is None or delivery.state is not DeliveryState.PENDING:
            return
        if subscriber is None or subscriber.removed_at is not None:
            await self._finish(delivery, DeliveryState.GIVEN_UP, "the subscriber unsubscribed")
            return
        error = await self._try(subscriber, delivery, event_of(str(payload.get("kind", ""))))
        if not error:
            await self._finish(delivery, DeliveryState.DELIVERED, "")
            return
        if delivery.attempts + 1 >= self._max_tries:
            await self._finish(delivery, DeliveryState.GIVEN_UP, error)
            log.warning(
                "status_webhook.given_up",
                subscriber_id=subscriber_id,
                key=key,
                tries=delivery.attempts + 1,
                error=error,
            )
            return
        await self._store.record_attempt(
            delivery, state=DeliveryState.PENDING, error=error, at=self._clock.now()
        )
        raise DeliveryFailed(
            f"delivery {delivery.id} try {delivery.attempts + 1} of {self._max_tries}: {error}"
        )

    # -- internals -----------------------------------------------------------------------------

    async def _try(self, subscriber: Subscriber, delivery: Delivery, event: str) -> str:
        """Why the try failed; empty when it was delivered."""
        try:
            await self._check_address(subscriber.url)
        except SubscriptionRefused as exc:
            return str(exc)
        timestamp = int(self._clock.now().timestamp())
        headers = signed_headers(
            delivery, secret=subscriber.secret, timestamp=timestamp, event=event
        )
        try:
            await self._sender.post(subscriber, delivery.body.encode("utf-8"), headers)
        except Exception as exc:
            return str(exc) or type(exc).__name__
        return ""

    async def _finish(self, delivery: Delivery, state: DeliveryState, error: str) -> None:
        await self._store.record_attempt(delivery, state=state, error=error, at=self._clock.now())

    async def _check_address(self, url: str) -> None:
        problems = url_problems(url)
        if problems:
            raise SubscriptionRefused("; ".join(problems))
        host = url_host(url)
        literal = literal_address(host)
        addresses = [literal] if literal is not None else await self._sender.resolve(host)
        problems = address_problems(host, addresses, allow_private=self._allow_private)
        if problems:
            raise SubscriptionRefused("; ".join(problems))


def url_host(url: str) -> str:
    return urlsplit(url).hostname or ""
