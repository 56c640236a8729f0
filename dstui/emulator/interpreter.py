"""Facts about the interpreter the kernels run, probed once per emulator start."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass

# Runs inside the kernel interpreter: its version, prefixes and installed distributions.
_PROBE = """
import importlib.metadata as md, json, platform, sys
seen = {}
for dist in md.distributions():
    name = dist.metadata["Name"]
    if name and name.lower() not in seen:
        seen[name.lower()] = (name, dist.version)
print(json.dumps({
    "version": platform.python_version(),
    "implementation": platform.python_implementation(),
    "prefixes": sorted({sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix}),
    "packages": sorted(seen.values(), key=lambda item: item[0].lower()),
}))
"""


@dataclass(frozen=True)
class InterpreterInfo:
    executable: str
    version: str
    implementation: str
    prefixes: tuple[str, ...]
    packages: tuple[tuple[str, str], ...]

    def package_version(self, name: str) -> str | None:
        wanted = name.lower()
        return next((ver for pkg, ver in self.packages if pkg.lower() == wanted), None)


class InterpreterError(RuntimeError):
    pass


async def probe_interpreter(executable: str | None) -> InterpreterInfo:
    python = executable or sys.executable
    proc = await asyncio.create_subprocess_exec(
        python,
        "-c",
        _PROBE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        stdin=asyncio.subprocess.DEVNULL,
    )
    out, err = await proc.communicate()
    if proc.returncode != 0:
        detail = err.decode(errors="replace").strip().splitlines()[-1:] or ["no output"]
        raise InterpreterError(f"cannot run the kernel interpreter {python}: {detail[0]}")
    data = json.loads(out)
    info = InterpreterInfo(
        executable=python,
        version=data["version"],
        implementation=data["implementation"],
        prefixes=tuple(data["prefixes"]),
        packages=tuple((name, version) for name, version in data["packages"]),
    )
    if info.package_version("ipykernel") is None:
        raise InterpreterError(f"{python} has no ipykernel installed (pip install ipykernel)")
    return info
