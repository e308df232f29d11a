"""Prometheus metrics shared by the services (exposed on `/metrics`)."""

from prometheus_client import Counter, Gauge, Histogram

REQUEST_SECONDS = Histogram(
    "pmm_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["service", "method", "route", "status"],
)
OUTBOX_BACKLOG = Gauge(
    "pmm_outbox_backlog", "Outbox rows not yet published to NATS.", ["service"]
)
OUTBOX_PUBLISHED = Counter(
    "pmm_outbox_published_total", "Outbox rows published to NATS.", ["service"]
)
CONSUMER_LAG = Gauge(
    "pmm_consumer_lag",
    "Messages in the stream not yet delivered to a durable consumer.",
    ["consumer"],
)
CONSUMED = Counter(
    "pmm_consumer_messages_total",
    "Messages a consumer finished, by outcome.",
    ["consumer", "outcome"],
)
