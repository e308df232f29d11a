"""The events the review service listens to."""

from pmm_kit.consumers import Subscription


def subscriptions() -> list[Subscription]:
    # TODO(#6): subscribe to the events this service reacts to; when its
    # handlers are written.
    return []
