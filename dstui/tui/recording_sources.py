"""What the Traffic and Timeline views read, and what they hand back to the main screen."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dstui.recording.store import own_requests_path, traffic_path


@dataclass(frozen=True)
class RecordingSource:
    label: str  # "proxy & embedded emulator"
    path: Path


@dataclass(frozen=True)
class TrafficOutcome:
    """What the user asked the main screen to do on leaving: load code, or go to a session."""

    identifier: str | None
    code: str | None = None
    exchange_id: int | None = None
    # Set when the exchange was recorded at another endpoint than the open pool's: its
    # identifier means nothing here, so only the code is loaded, into the current session.
    recorded_at: str | None = None


def sources_under(data_dir: Path) -> list[RecordingSource]:
    """The recording `dstui proxy` and the embedded emulator write, then dstui's own log, both
    under the app's data dir."""
    return [
        RecordingSource("proxy & embedded emulator", data_dir / traffic_path().name),
        RecordingSource("dstui's own requests", data_dir / own_requests_path().name),
    ]
