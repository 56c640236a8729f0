"""A local emulator of an Azure Container Apps dynamic-sessions pool (no Textual here).

`EmulatorServer(EmulatorConfig(...))` serves both API shapes of the data plane (contract §7)
over real HTTP(S) on loopback, runs one IPython kernel per session (in bubblewrap where it
works), and removes sessions after their cooldown. `main(argv)` is `dstui emulator ...`.

    with EmulatorServer(EmulatorConfig(ready_sessions=1)) as server:
        ...  # server.endpoint, server.token (None with auth=False), server.ca_file (--tls)
"""

from dstui.emulator.cli import main
from dstui.emulator.config import EmulatorConfig
from dstui.emulator.server import EmulatorServer

__all__ = ["EmulatorConfig", "EmulatorServer", "main"]
