"""A byte relay that lets a process inside a lab namespace reach the root namespace's PostgreSQL on 127.0.0.1.

A network namespace has its own loopback, so ``127.0.0.1:5432`` inside it is not the server's. A UNIX socket
file, though, is reached from any namespace. Two relays make the crossing (both plain TCP for PostgreSQL, so its
``pg_hba`` and the connection URL stay the same):

* in the root namespace: ``python -m tests.lab.pgrelay unix-to-tcp SOCKET 127.0.0.1 5432``
* in the lab namespace (``ip netns exec NS``): ``python -m tests.lab.pgrelay tcp-to-unix 127.0.0.1 5432 SOCKET``

Each connection is copied both ways until either end closes. Started by :func:`tests.lab.vantage.relay`.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, OSError):
        pass
    finally:
        with contextlib.suppress(Exception):
            writer.close()


def _handler(connect: object) -> object:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await connect()  # type: ignore[operator]
        except OSError:
            writer.close()
            return
        await asyncio.gather(_pipe(reader, up_writer), _pipe(up_reader, writer))
    return handle


async def main(argv: list[str]) -> None:
    mode = argv[0]
    if mode == "unix-to-tcp":
        path, host, port = argv[1], argv[2], int(argv[3])
        server = await asyncio.start_unix_server(
            _handler(lambda: asyncio.open_connection(host, port)), path)  # type: ignore[arg-type]
    elif mode == "tcp-to-unix":
        host, port, path = argv[1], int(argv[2]), argv[3]
        server = await asyncio.start_server(
            _handler(lambda: asyncio.open_unix_connection(path)), host, port)  # type: ignore[arg-type]
    else:
        raise SystemExit(f"unknown mode {mode!r}: unix-to-tcp SOCKET HOST PORT | tcp-to-unix HOST PORT SOCKET")
    print("ready", flush=True)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    from tests.lab.agents import die_with_parent

    die_with_parent()
    asyncio.run(main(sys.argv[1:]))
