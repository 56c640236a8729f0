"""How the long-lived objects open and close: one spelling of the context-manager methods for the
clients and fakes (async), the stores (sync) and the servers run on a thread."""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import Any, ClassVar, Self

Serving = Coroutine[Any, Any, None]


class AsyncClosing(ABC):
    """`async with obj:` closes `obj` on the way out; subclasses define `aclose`."""

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    @abstractmethod
    async def aclose(self) -> None: ...


class Closing(ABC):
    """`with obj:` closes `obj` on the way out; subclasses define `close`."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @abstractmethod
    def close(self) -> None: ...


class StartedService(Closing):
    """A server started once, stopped on any failure of its start, and usable as `with obj:`
    (started on the way in, stopped on the way out). Subclasses set `service_name`, keep
    `_thread` (None while stopped) and define `_launch` and an idempotent `stop`."""

    service_name: ClassVar[str] = "service"
    _thread: threading.Thread | None
    _ready: threading.Event  # set once it listens, or once the serving thread ended
    _error: BaseException | None  # why the serving thread ended, for start() to raise

    def start(self) -> None:
        if self._thread is not None:
            raise RuntimeError(f"the {self.service_name} is already started")
        try:
            self._launch()
        except BaseException:
            self.stop()
            raise

    @abstractmethod
    def _launch(self) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...

    def close(self) -> None:
        self.stop()

    def _serve_in_thread(
        self, run_loop: Callable[[Serving], object], serving: Serving, timeout_s: float
    ) -> None:
        """Run `serving` on a daemon thread (`run_loop`: asyncio.run or the like); return once
        it listens, else raise what ended it."""
        self._thread = threading.Thread(
            target=run_loop,
            args=(self._reporting(serving),),
            name=f"dstui-{self.service_name}",
            daemon=True,
        )
        self._thread.start()
        if not self._ready.wait(timeout_s):
            raise RuntimeError(f"the {self.service_name} did not start in time")
        if self._error is not None:
            raise self._error

    async def _reporting(self, serving: Serving) -> None:
        try:
            await serving
        except BaseException as exc:  # the starting thread raises it
            self._error = exc
        finally:
            self._ready.set()

    def __enter__(self) -> Self:
        self.start()
        return self
