#!/usr/bin/env python3
"""A round-trip delay for the bench fleet, where the kernel has no netem.

Runs in the controller's namespace. nftables there redirects every new TCP connection to a fleet
host's port 22 to this relay (`bench/fleet.sh rtt MS`); the relay reads the original destination
(SO_ORIGINAL_DST), connects to it with a socket mark the redirect skips, and forwards each chunk
after half the round trip, in each direction, in order. A new connection reaches the host one and
a half round trips after it was made, as a TCP handshake plus the first segment would. So every
exchange a tool waits for costs it one round trip, as on a network with that RTT; the relay's own
CPU is not the tool's (it is another process).

It also counts, per connection, the client's turns: each time the client sends after data from
the server arrived since its last send (the first send counts too). That is the number of round
trips the client waited for at least once, what a tool pays per host at any latency. On close,
one line goes to the log: `DST_IP turns bytes_up bytes_down`.

    delay-relay.py PORT RTT_MS LOG
"""
import asyncio
import socket
import struct
import sys
import time

SO_ORIGINAL_DST = 80
MARK = 0x1E7


def original_dst(sock):
    raw = sock.getsockopt(socket.SOL_IP, SO_ORIGINAL_DST, 16)
    port, packed = struct.unpack_from("!2xH4s", raw)
    return socket.inet_ntoa(packed), port


async def pump(reader, writer, delay, on_data):
    """Forwards what `reader` yields to `writer`, each chunk `delay` seconds after it arrived."""
    queue = asyncio.Queue()

    async def read():
        while True:
            data = await reader.read(65536)
            await queue.put((time.monotonic() + delay, data))
            if not data:
                return
            on_data(len(data))

    async def write():
        while True:
            due, data = await queue.get()
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            if not data:
                try:
                    writer.write_eof()
                except OSError:
                    pass
                return
            writer.write(data)
            await writer.drain()

    await asyncio.gather(read(), write())


async def handle(client_r, client_w, half, log):
    sock = client_w.get_extra_info("socket")
    dst_ip, dst_port = original_dst(sock)
    await asyncio.sleep(3 * half)
    up = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    up.setsockopt(socket.SOL_SOCKET, socket.SO_MARK, MARK)
    up.setblocking(False)
    try:
        await asyncio.get_running_loop().sock_connect(up, (dst_ip, dst_port))
        server_r, server_w = await asyncio.open_connection(sock=up)
    except OSError:
        up.close()
        client_w.close()
        return
    state = {"turns": 0, "answered": True, "up": 0, "down": 0}

    def sent(n):
        if state["answered"]:
            state["turns"] += 1
            state["answered"] = False
        state["up"] += n

    def received(n):
        state["answered"] = True
        state["down"] += n

    try:
        await asyncio.gather(
            pump(client_r, server_w, half, sent),
            pump(server_r, client_w, half, received),
        )
    except (ConnectionError, OSError):
        pass
    finally:
        for w in (client_w, server_w):
            w.close()
        log.write(f"{dst_ip} {state['turns']} {state['up']} {state['down']}\n")
        log.flush()


async def main():
    port, rtt_ms, log_path = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
    half = rtt_ms / 2000.0
    log = open(log_path, "a", buffering=1)
    server = await asyncio.start_server(
        lambda r, w: handle(r, w, half, log), "127.0.0.1", port, backlog=4096
    )
    async with server:
        await server.serve_forever()


asyncio.run(main())
