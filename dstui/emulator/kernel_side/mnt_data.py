"""Runs inside a kernel without a sandbox: the absolute path /mnt/data reaches its own folder.

Never imported by the emulator: its source is sent to the kernel at start (stdlib only, since
the kernel's interpreter may be another Python). Python-level file functions are wrapped, so
`open`, `os`, `pathlib`, `shutil`, `glob` and libraries built on them (pandas, PIL, numpy)
see the mapping; subprocesses and C code that opens paths itself do not.
"""

from __future__ import annotations

import builtins
import functools
import io
import os
import posixpath
from collections.abc import Callable
from typing import Any

# os functions whose listed positional arguments (or keywords) are paths.
_PATH_ARGUMENTS: dict[str, tuple[tuple[int, str], ...]] = {
    name: ((0, "path"),)
    for name in [
        "access",
        "chdir",
        "chflags",
        "chmod",
        "chown",
        "lchflags",
        "lchmod",
        "lchown",
        "listdir",
        "lstat",
        "mkdir",
        "mkfifo",
        "mknod",
        "pathconf",
        "readlink",
        "remove",
        "rmdir",
        "scandir",
        "stat",
        "statvfs",
        "truncate",
        "unlink",
        "utime",
        "getxattr",
        "setxattr",
        "listxattr",
        "removexattr",
        "chroot",
    ]
}
_PATH_ARGUMENTS["open"] = ((0, "path"),)
for _two in ("rename", "replace", "link"):
    _PATH_ARGUMENTS[_two] = ((0, "src"), (1, "dst"))
_PATH_ARGUMENTS["symlink"] = ((0, "src"), (1, "dst"))
_CAPABILITY_SETS = ("supports_dir_fd", "supports_fd", "supports_follow_symlinks")


def _one_leading_slash(path: str) -> str:
    """normpath keeps a leading `//` (POSIX leaves it to the system); Linux reads it as `/`."""
    return "/" + path.lstrip("/") if path.startswith("//") else path


def install(host_dir: str, mount: str = "/mnt/data") -> None:
    """Wrap the file functions so `mount` and everything under it resolve into `host_dir`."""
    host_dir = os.path.realpath(host_dir)
    mount_b, host_b = os.fsencode(mount), os.fsencode(host_dir)

    def to_host(path: Any) -> Any:
        if isinstance(path, int):  # a file descriptor
            return path
        try:
            raw = os.fspath(path)
        except TypeError:
            return path  # let the real function raise its own error
        if isinstance(raw, bytes):
            clean_b = posixpath.normpath(raw)
            clean_b = b"/" + clean_b.lstrip(b"/") if clean_b.startswith(b"//") else clean_b
            if clean_b == mount_b or clean_b.startswith(mount_b + b"/"):
                return host_b + clean_b[len(mount_b) :]
            return path
        clean = _one_leading_slash(posixpath.normpath(raw))
        if clean == mount or clean.startswith(mount + "/"):
            return host_dir + clean[len(mount) :]
        return path

    def to_mount(real: str) -> str:
        if real == host_dir or real.startswith(host_dir + "/"):
            return mount + real[len(host_dir) :]
        return real

    def mapped(original: Callable[..., Any], slots: tuple[tuple[int, str], ...]) -> Any:
        @functools.wraps(original)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if slots:
                positional = list(args)
                for index, keyword in slots:
                    if index < len(positional):
                        positional[index] = to_host(positional[index])
                    elif keyword in kwargs:
                        kwargs[keyword] = to_host(kwargs[keyword])
                args = tuple(positional)
            return original(*args, **kwargs)

        wrapper.__dstui_original__ = original  # type: ignore[attr-defined]
        return wrapper

    for name, slots in _PATH_ARGUMENTS.items():
        original = getattr(os, name, None)
        if original is None or hasattr(original, "__dstui_original__"):
            continue
        wrapper = mapped(original, slots)
        setattr(os, name, wrapper)
        for set_name in _CAPABILITY_SETS:  # shutil and pathlib check these sets
            capabilities = getattr(os, set_name, None)
            if isinstance(capabilities, set) and original in capabilities:
                capabilities.add(wrapper)

    real_getcwd, real_getcwdb = os.getcwd, os.getcwdb

    @functools.wraps(real_getcwd)
    def getcwd() -> str:
        return to_mount(real_getcwd())

    @functools.wraps(real_getcwdb)
    def getcwdb() -> bytes:
        return os.fsencode(to_mount(os.fsdecode(real_getcwdb())))

    os.getcwd, os.getcwdb = getcwd, getcwdb
    opener = mapped(builtins.open, ((0, "file"),))
    builtins.open = opener
    io.open = opener
    _map_ipython_open(lambda original: mapped(original, ((0, "file"),)))
    _map_unix_socket_addresses(to_host)
    _map_subprocess_cwd(to_host)


def _map_subprocess_cwd(to_host: Callable[[Any], Any]) -> None:
    """`cwd=` of a subprocess is mapped; its arguments are the program's business."""
    import subprocess

    original = subprocess.Popen.__init__
    if hasattr(original, "__dstui_original__"):
        return

    @functools.wraps(original)
    def init(self: subprocess.Popen[Any], *args: Any, **kwargs: Any) -> None:
        if kwargs.get("cwd") is not None:
            kwargs["cwd"] = to_host(kwargs["cwd"])
        original(self, *args, **kwargs)

    init.__dstui_original__ = original  # type: ignore[attr-defined]
    subprocess.Popen.__init__ = init  # type: ignore[method-assign]


def _map_unix_socket_addresses(to_host: Callable[[Any], Any]) -> None:
    """socket.bind/connect take an AF_UNIX address as a path."""
    import socket

    family = getattr(socket, "AF_UNIX", None)
    for name in ("bind", "connect", "connect_ex"):
        original = getattr(socket.socket, name)
        if family is None or hasattr(original, "__dstui_original__"):
            continue

        def wrapper(self: socket.socket, address: Any, _original: Any = original) -> Any:
            if self.family == family and isinstance(address, (str, bytes)):
                address = to_host(address)
            return _original(self, address)

        wrapper.__dstui_original__ = original  # type: ignore[attr-defined]
        functools.update_wrapper(wrapper, original)
        setattr(socket.socket, name, wrapper)


def _map_ipython_open(wrap: Callable[[Any], Any]) -> None:
    """IPython puts its own `open` (bound to the real io.open) into the user's namespace."""
    try:
        from IPython import get_ipython
    except ImportError:
        return
    shell = get_ipython()
    if shell is None or "open" not in shell.user_ns:
        return
    wrapper = wrap(shell.user_ns["open"])
    shell.user_ns["open"] = wrapper
    if "open" in shell.user_ns_hidden:  # keeps it out of %who
        shell.user_ns_hidden["open"] = wrapper
