"""The events the submission service listens to."""

from pmm_kit.consumers import Subscription


def subscriptions() -> list[Subscription]:
    # TODO(#4): subscribe to the events this service reacts to; when its
    # handlers are written.
    return []
