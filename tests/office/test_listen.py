"""The office's listening socket: what the sockets it accepts are given."""

import asyncio
import socket

from office.cli import _listen


def test_accepted_connections_send_small_answers_at_once():
    # asyncio switches Nagle's algorithm off only when the listener says IPPROTO_TCP; without
    # that, every keep-alive request after a device's first waited ~40 ms for its delayed ACK
    listener = _listen("127.0.0.1", 0)
    port = listener.getsockname()[1]
    seen = []

    class Probe(asyncio.Protocol):
        def connection_made(self, transport):
            sock = transport.get_extra_info("socket")
            seen.append(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    async def run():
        server = await asyncio.get_running_loop().create_server(Probe, sock=listener)
        async with server:
            _reader, writer = await asyncio.open_connection("127.0.0.1", port)
            for _ in range(100):
                if seen:
                    break
                await asyncio.sleep(0.01)
            writer.close()

    asyncio.run(run())
    assert seen and seen[0] != 0
