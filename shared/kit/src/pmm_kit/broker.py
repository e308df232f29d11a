"""The connection to NATS JetStream, and the `PMM` stream every event goes to.

A service must start even while NATS is away: the connection is made, and remade, in
the background; until it exists `/readyz` says so and events wait in the outbox.
"""

import asyncio
import contextlib

import nats
import structlog
from nats.aio.client import Client
from nats.errors import NoRespondersError
from nats.js import JetStreamContext
from nats.js.api import StorageType, StreamConfig
from nats.js.errors import NotFoundError, ServiceUnavailableError

from pmm_kit.events import STREAM_NAME, STREAM_SUBJECTS
from pmm_kit.tasks import cancel_and_wait

log = structlog.get_logger(__name__)

# JetStream drops a second publish of a message id seen within this window; the inbox
# covers what arrives later.
DUPLICATE_WINDOW_SECONDS = 30 * 60.0


class BrokerUnavailableError(ConnectionError):
    """NATS is not connected (yet, or any more)."""


class Broker:
    def __init__(self, url: str, *, name: str) -> None:
        self._url = url
        self._name = name
        self._client: Client | None = None
        self._jetstream: JetStreamContext | None = None
        self._ready = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._outage_reported = False
        self._closing = False

    @property
    def connected(self) -> bool:
        return self._client is not None and self._client.is_connected

    @property
    def jetstream(self) -> JetStreamContext:
        if self._jetstream is None or not self.connected:
            raise BrokerUnavailableError("NATS is not connected")
        return self._jetstream

    @property
    def client(self) -> Client:
        if self._client is None:
            raise BrokerUnavailableError("NATS is not connected")
        return self._client

    def start(self) -> None:
        self._task = asyncio.create_task(self._connect_until_done())

    async def wait_ready(self) -> None:
        await self._ready.wait()

    async def close(self) -> None:
        self._closing = True
        if self._task is not None:
            await cancel_and_wait(self._task, name="broker connection")
        if self._client is not None and not self._client.is_closed:
            with contextlib.suppress(Exception):
                await self._client.drain()

    async def ensure_stream(self) -> None:
        """Create the stream again if the server lost it (a fresh NATS volume)."""
        await ensure_stream(self.jetstream)

    async def stream_exists(self) -> bool:
        try:
            await asyncio.wait_for(self.jetstream.stream_info(STREAM_NAME), 2.0)
        except Exception:  # any failure means: not usable now
            return False
        return True

    async def _connect_until_done(self) -> None:
        delay = 0.2
        while True:
            try:
                await self._connect()
            except Exception as error:
                log.warning(
                    "broker.connect.failed", error=_describe(error), retry_in=delay
                )
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
                continue
            return

    async def _connect(self) -> None:
        client = await nats.connect(
            self._url,
            name=self._name,
            allow_reconnect=True,
            max_reconnect_attempts=-1,
            reconnect_time_wait=0.5,
            connect_timeout=2,
            error_cb=self._on_error,
            disconnected_cb=self._on_disconnected,
            reconnected_cb=self._on_reconnected,
        )
        try:
            jetstream = client.jetstream(timeout=5)
            await ensure_stream(jetstream)
        except BaseException:
            # A client that keeps reconnecting must not outlive a failed attempt.
            await client.close()
            raise
        self._client, self._jetstream = client, jetstream
        self._ready.set()
        log.info("broker.connected", server=_server_of(client))

    async def _on_error(self, error: Exception) -> None:
        # The client reports every failed reconnection attempt; once per outage is
        # what a person needs to read.
        if self._outage_reported:
            log.debug("broker.error", error=_describe(error))
            return
        self._outage_reported = True
        log.warning("broker.error", error=_describe(error))

    async def _on_disconnected(self) -> None:
        # Our own close disconnects too: that is no anomaly for anyone to look at.
        if self._closing:
            log.info("broker.closed")
            return
        log.warning("broker.disconnected")

    async def _on_reconnected(self) -> None:
        self._outage_reported = False
        log.info("broker.reconnected")
        try:
            await self.ensure_stream()
        except Exception as error:  # the relay and consumers try again later
            log.warning("broker.stream.restore_failed", error=_describe(error))


async def ensure_stream(jetstream: JetStreamContext) -> None:
    """Create the `PMM` stream on `pmm.>` if it does not exist yet."""
    try:
        await jetstream.stream_info(STREAM_NAME)
    except NotFoundError:
        await jetstream.add_stream(
            StreamConfig(
                name=STREAM_NAME,
                subjects=[STREAM_SUBJECTS],
                storage=StorageType.FILE,
                duplicate_window=DUPLICATE_WINDOW_SECONDS,
            )
        )
        log.info("broker.stream.created", stream=STREAM_NAME)


def _server_of(client: Client) -> str | None:
    """Host and port only: a URL's user and password never reach a log line."""
    url = client.connected_url
    if url is None:
        return None
    return f"{url.hostname}:{url.port}"


def _describe(error: BaseException) -> str:
    if isinstance(error, ServiceUnavailableError | NoRespondersError):
        return "JetStream is not enabled on the NATS server (start it with -js)"
    return f"{type(error).__name__}: {error}"
