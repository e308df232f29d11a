"""The embedded servers: a stack killed without cleaning up does not block the next;
the ports they and the services get are free and never ones the kernel lends out."""

import os
import socket
from pathlib import Path

from pmm_local.servers import (
    RESERVED_PORTS,
    EmbeddedNats,
    EmbeddedPostgres,
    can_listen_on,
    free_port,
)


def alive(pid: int) -> bool:
    return Path(f"/proc/{pid}").exists()


def test_a_nats_server_left_running_is_stopped_by_the_next_start(
    tmp_path: Path,
) -> None:
    left_behind = EmbeddedNats(tmp_path / "nats").start()
    assert left_behind.process is not None

    successor = EmbeddedNats(tmp_path / "nats").start()
    try:
        left_behind.process.wait(10)

        assert successor.process is not None
        assert alive(successor.process.pid)
    finally:
        successor.stop()


def test_a_postgres_left_running_is_stopped_by_the_next_start(tmp_path: Path) -> None:
    left_behind = EmbeddedPostgres(tmp_path / "pg").start()
    assert left_behind.process is not None

    successor = EmbeddedPostgres(tmp_path / "pg").start()
    try:
        left_behind.process.wait(30)

        assert successor.process is not None
        assert alive(successor.process.pid)
        assert successor.password == left_behind.password
    finally:
        successor.stop()


def test_an_unrelated_process_named_by_a_stale_pid_file_is_left_alone(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "nats"
    directory.mkdir()
    (directory / "nats.pid").write_text(str(os.getpid()))

    server = EmbeddedNats(directory).start()
    server.stop()

    assert alive(os.getpid())


def test_a_free_port_is_outside_the_ephemeral_range_and_can_be_listened_on() -> None:
    ephemeral = Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()
    lowest_ephemeral = int(ephemeral[0])

    ports = {free_port() for _ in range(200)}

    assert all(port < lowest_ephemeral for port in ports)
    assert not ports & RESERVED_PORTS
    assert len(ports) > 190  # chosen at random, not handed out in turn
    for port in list(ports)[:20]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
            server.bind(("127.0.0.1", port))
            server.listen()


def test_a_port_whose_server_just_stopped_can_be_listened_on_again() -> None:
    port = free_port()
    # The server closes its side first, so its end of the connection waits in
    # TIME_WAIT on `port`, as a service's do for a minute after `pmm up` stops.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as server:
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        server.bind(("127.0.0.1", port))
        server.listen()
        with socket.create_connection(("127.0.0.1", port)) as client:
            accepted, _ = server.accept()
            accepted.close()
            client.recv(1)

    assert can_listen_on(port)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as listening:
        listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listening.bind(("127.0.0.1", port))
        listening.listen()
        assert not can_listen_on(port)
