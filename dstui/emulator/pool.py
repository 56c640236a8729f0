"""Sessions as the service keeps them: implicit creation, cooldown expiry, a ready pool, a cap."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import time
import uuid
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from itertools import islice
from pathlib import Path

from dstui.emulator.envelopes import ApiError, utc_now
from dstui.emulator.execution_record import ExecutionRecord
from dstui.emulator.kernels import DEFAULT_INTERRUPT_GRACE_S, Kernel
from dstui.emulator.sandbox import SandboxPolicy
from dstui.emulator.sandboxed_process import SandboxedProcess

logger = logging.getLogger("dstui.emulator")

MAX_RECORDS_PER_SESSION = 200
_RETRY_AFTER_S = "5"
_TICK = timedelta(microseconds=1)


@dataclass
class Container:
    """What the service calls the session's container: a data dir and (once needed) a kernel."""

    id: str
    data_dir: Path
    runtime_dir: Path
    kernel: Kernel | None = None
    kernel_starts: int = 0
    # Shell commands and custom-container apps running for the session
    processes: set[SandboxedProcess] = field(default_factory=set)

    def next_runtime_dir(self) -> Path:
        """A runtime dir (and cgroup name) no earlier kernel used: a predecessor still being
        stopped removes its own, never its successor's."""
        self.kernel_starts += 1
        return self.runtime_dir.with_name(f"{self.runtime_dir.name}-{self.kernel_starts}")


@dataclass
class Session:
    identifier: str
    container: Container
    created_at: datetime
    last_accessed_at: datetime
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    executions: OrderedDict[str, ExecutionRecord] = field(default_factory=OrderedDict)

    @property
    def etag(self) -> str:
        return self.container.id

    def remember(self, record: ExecutionRecord) -> None:
        self.executions[record.id] = record
        while len(self.executions) > MAX_RECORDS_PER_SESSION:
            self.executions.popitem(last=False)


@dataclass(frozen=True)
class KernelLease:
    kernel: Kernel
    start_ms: int  # 0 when the kernel was already running
    new_allocation: bool


class SessionPool:
    def __init__(
        self,
        *,
        policy: SandboxPolicy,
        data_root: Path,
        runtime_root: Path,
        cooldown_s: float,
        max_sessions: int,
        ready_sessions: int,
        interrupt_grace_s: float = DEFAULT_INTERRUPT_GRACE_S,
    ) -> None:
        self.policy = policy
        self.interrupt_grace_s = interrupt_grace_s
        self.data_root = data_root
        self.runtime_root = runtime_root
        self.cooldown = timedelta(seconds=cooldown_s)
        self.max_sessions = max_sessions
        self.ready_target = ready_sessions
        self.sessions: dict[str, Session] = {}
        self._ready: deque[Container] = deque()
        self._refill_wanted = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []  # reaper and ready-pool refill
        self._cleanups: set[asyncio.Task[None]] = set()
        self._stopping: set[Kernel] = set()
        self._closed = False
        self._last_created = datetime.min.replace(tzinfo=UTC)
        self._start_slots = asyncio.Semaphore(max(2, os.cpu_count() or 2))

    async def start(self) -> None:
        (self.data_root / "containers").mkdir(parents=True, exist_ok=True)
        self._tasks.append(asyncio.create_task(self._reap_forever()))
        if self.ready_target > 0:
            self._refill_wanted.set()
            self._tasks.append(asyncio.create_task(self._refill_forever()))

    @property
    def ready_count(self) -> int:
        return len(self._ready)

    def expires_at(self, session: Session) -> datetime:
        return session.last_accessed_at + self.cooldown

    def find(self, identifier: str) -> Session | None:
        """A live session without touching it (management reads do not extend the cooldown)."""
        session = self.sessions.get(identifier)
        if (
            session is not None
            and self.expires_at(session) <= utc_now()
            and not session.lock.locked()
        ):
            return None
        return session

    def open(self, identifier: str) -> tuple[Session, bool]:
        """The session for a data-plane request, created on first use; resets its cooldown."""
        now = utc_now()
        session = self.find(identifier)
        if session is not None:
            session.last_accessed_at = now
            return session, False
        stale = self.sessions.pop(identifier, None)  # expired, not reaped yet
        if stale is not None:
            self._destroy_later(stale.container)
        if len(self.sessions) >= self.max_sessions:
            raise ApiError(
                429,
                "MaxConcurrentSessionsReached",
                f"The session pool already runs its maximum of {self.max_sessions} sessions.",
                headers={"Retry-After": _RETRY_AFTER_S},
            )
        container = self._claim_ready() or self._new_container()
        # Strictly increasing, so creation order (the dict's order) sorts sessions uniquely.
        created = max(now, self._last_created + _TICK)
        self._last_created = created
        session = Session(identifier, container, created_at=created, last_accessed_at=created)
        self.sessions[identifier] = session
        return session, True

    def touch(self, session: Session) -> None:
        session.last_accessed_at = utc_now()

    async def lease_kernel(self, session: Session) -> KernelLease:
        """The session's running kernel, started now if it has none (hold session.lock)."""
        container = session.container
        if container.kernel is not None and container.kernel.alive:
            return KernelLease(container.kernel, 0, new_allocation=False)
        started = time.monotonic()
        try:
            kernel = await self._start_kernel(container)
        except BaseException:
            container.kernel = None
            raise
        return KernelLease(kernel, int((time.monotonic() - started) * 1000), new_allocation=True)

    async def _start_kernel(self, container: Container) -> Kernel:
        """Give the container a new kernel and start it (on failure it stays in the container)."""
        kernel = Kernel(
            self.policy, container.data_dir, container.next_runtime_dir(), self.interrupt_grace_s
        )
        container.kernel = kernel
        # Kernel start-up is CPU-bound: a burst of new sessions queues here instead of
        # starving every start past its timeout.
        async with self._start_slots:
            await kernel.start()
        return kernel

    async def replace_kernel(self, session: Session) -> None:
        """Drop a broken kernel (OOM, hung); the next execution gets a fresh one, files stay."""
        kernel, session.container.kernel = session.container.kernel, None
        if kernel is not None:
            await kernel.stop()

    async def delete(self, identifier: str) -> bool:
        session = self.sessions.pop(identifier, None)
        if session is None:
            return False
        await self._destroy(session.container)
        return True

    def page(self, skip: int, size: int) -> tuple[list[Session], bool]:
        """Live sessions `skip`..`skip+size` by creation time, and whether more follow.

        The dict keeps insertion order, which is creation order because creation times are
        made strictly increasing in open(): no sort is needed for stable pages.
        """
        threshold = utc_now() - self.cooldown
        live = (
            s for s in self.sessions.values() if s.last_accessed_at > threshold or s.lock.locked()
        )
        window = list(islice(live, skip, skip + size + 1))
        return window[:size], len(window) > size

    async def stop_kernels(self) -> None:
        """Kill every kernel (shutting down): running executions end as aborted at once."""
        self._closed = True
        containers = [s.container for s in self.sessions.values()] + list(self._ready)
        kernels = [c.kernel for c in containers if c.kernel is not None]
        processes = [p for c in containers for p in c.processes]
        stopping = (*(k.stop() for k in kernels), *(p.stop() for p in processes))
        await asyncio.gather(*stopping, return_exceptions=True)

    async def close(self) -> None:
        self._closed = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, *self._cleanups, return_exceptions=True)
        containers = [s.container for s in self.sessions.values()] + list(self._ready)
        self.sessions.clear()
        self._ready.clear()
        kernels = [c.kernel for c in containers if c.kernel is not None]
        processes = [p for c in containers for p in c.processes]
        await asyncio.gather(*(k.stop() for k in [*kernels, *self._stopping]))
        await asyncio.gather(*(p.stop() for p in processes))
        if self.policy.cgroups is not None:
            await asyncio.to_thread(self.policy.cgroups.close)

    def _new_container(self) -> Container:
        container_id = str(uuid.uuid4())
        data_dir = self.data_root / "containers" / container_id
        data_dir.mkdir(mode=0o700)
        runtime_dir = self.runtime_root / container_id.replace("-", "")[:16]
        return Container(container_id, data_dir, runtime_dir)

    def _claim_ready(self) -> Container | None:
        while self._ready:
            container = self._ready.popleft()
            self._refill_wanted.set()
            if container.kernel is not None and container.kernel.alive:
                return container
            self._destroy_later(container)
        return None

    def _destroy_later(self, container: Container) -> None:
        task = asyncio.get_running_loop().create_task(self._destroy(container))
        self._cleanups.add(task)
        task.add_done_callback(self._cleanups.discard)

    async def _destroy(self, container: Container) -> None:
        await asyncio.gather(*(process.stop() for process in list(container.processes)))
        kernel, container.kernel = container.kernel, None
        if kernel is not None:
            self._stopping.add(kernel)
            try:
                await kernel.stop()
            finally:
                self._stopping.discard(kernel)
        await asyncio.to_thread(shutil.rmtree, container.data_dir, True)

    async def _refill_forever(self) -> None:
        failures = 0
        while not self._closed:
            await self._refill_wanted.wait()
            self._refill_wanted.clear()
            while len(self._ready) < self.ready_target and not self._closed:
                container = self._new_container()
                try:
                    await self._start_kernel(container)
                except Exception:
                    failures += 1
                    logger.exception("could not pre-start a ready kernel")
                    await self._destroy(container)
                    await asyncio.sleep(min(30.0, 2.0**failures))
                    continue
                failures = 0
                self._ready.append(container)

    async def _reap_forever(self) -> None:
        interval = max(0.2, min(5.0, self.cooldown.total_seconds() / 4))
        while True:
            await asyncio.sleep(interval)
            now = utc_now()
            expired = [
                s.identifier
                for s in self.sessions.values()
                if self.expires_at(s) <= now and not s.lock.locked()
            ]
            for identifier in expired:
                logger.info("session expired after its cooldown")
                await self.delete(identifier)
