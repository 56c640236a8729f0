"""Runs INSIDE a custom-container sandbox (stdlib only): a unix socket in the runtime dir,
bridged to 127.0.0.1:PORT in the sandbox's own network namespace, which the emulator cannot
reach otherwise. Each connection waits (bounded) for the app to listen."""

import asyncio
import sys
from collections.abc import Awaitable, Callable

_WAIT_FOR_APP_S = 30.0
_CHUNK = 65536


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while chunk := await reader.read(_CHUNK):
            writer.write(chunk)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.close()


async def _connect_app(port: int) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _WAIT_FOR_APP_S
    while True:
        try:
            return await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            if loop.time() > deadline:
                raise
            await asyncio.sleep(0.05)


def _handler(
    port: int,
) -> Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]:
    async def bridge(
        client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter
    ) -> None:
        try:
            app_reader, app_writer = await _connect_app(port)
        except OSError:
            client_writer.close()
            return
        await asyncio.gather(_pipe(client_reader, app_writer), _pipe(app_reader, client_writer))

    return bridge


async def main(socket_path: str, port: int) -> None:
    server = await asyncio.start_unix_server(_handler(port), path=socket_path)
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
