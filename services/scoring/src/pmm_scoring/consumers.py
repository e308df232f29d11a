"""The events the scoring service listens to."""

from pmm_kit.consumers import Subscription


def subscriptions() -> list[Subscription]:
    # TODO(#5): subscribe to the events this service reacts to; when its
    # handlers are written.
    return []
