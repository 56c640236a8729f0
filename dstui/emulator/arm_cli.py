"""The `dstui emulator --arm` options: which pools to host, and what the banner says of them."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from dstui.emulator.arm_pools import ArmPoolSpec, default_specs, demo_specs, load_specs
from dstui.emulator.arm_surface import DEFAULT_PAGE_SIZE
from dstui.emulator.config import EmulatorConfig
from dstui.emulator.server import EmulatorServer


def add_arm_options(parser: argparse.ArgumentParser) -> None:
    arm = parser.add_argument_group("Resource Manager (see README, 'Pools from ARM')")
    arm.add_argument(
        "--arm",
        action="store_true",
        help="also serve an ARM surface (subscriptions, session pools, role assignments) and "
        "host each pool below its own endpoint path",
    )
    source = arm.add_mutually_exclusive_group()
    source.add_argument(
        "--arm-pools",
        type=Path,
        metavar="FILE",
        help="TOML or JSON file listing the pools to host (implies --arm; default: one Python "
        "pool named by --pool-name)",
    )
    source.add_argument(
        "--arm-demo",
        action="store_true",
        help="host five pools of every type in two subscriptions (implies --arm)",
    )
    arm.add_argument(
        "--arm-page-size",
        type=_page_size,
        default=DEFAULT_PAGE_SIZE,
        metavar="N",
        help=f"entries per ARM list page before nextLink (default {DEFAULT_PAGE_SIZE})",
    )


def _page_size(text: str) -> int:
    if not (text.isascii() and text.isdigit()) or not 1 <= int(text) <= 1000:
        raise argparse.ArgumentTypeError(f"'{text}' is not a whole number from 1 to 1000")
    return int(text)


def arm_specs(args: argparse.Namespace, config: EmulatorConfig) -> list[ArmPoolSpec] | None:
    """The pools to host, or None without --arm. ArmPoolsError for a bad pools file."""
    if args.arm_pools is not None:
        return load_specs(args.arm_pools)
    if args.arm_demo:
        return demo_specs()
    return default_specs(config) if args.arm else None


def arm_banner(server: EmulatorServer) -> tuple[list[str], list[str]]:
    """(lines, exports) naming the ARM endpoint and every hosted pool's endpoint."""
    if not server.arm_endpoint:
        return [], []
    lines = [f"ARM (Resource Manager): {server.arm_endpoint}"]
    for hosted in server.hosted:
        spec = hosted.spec
        notes = [spec.container_type, spec.resource_group, spec.location]
        if spec.executor_scope == "none":
            notes.append("no Session Executor: 403")
        if not spec.reader:
            notes.append("not readable in ARM")
        lines.append(f"  pool {spec.name} ({', '.join(notes)}): {hosted.endpoint}")
    return lines, [f"export DSTUI_ARM_ENDPOINT={shlex.quote(server.arm_endpoint)}"]
