"""`dstui pool metadata` and `dstui new-id`."""

from __future__ import annotations

from dstui.api import PoolMetadata
from dstui.api.validation import new_identifier
from dstui.commands.context import CommandEnv
from dstui.commands.output import format_moment, render_fields, render_table, write_json


async def show_metadata(env: CommandEnv) -> int:
    async with env.client() as client:
        metadata = await client.get_pool_metadata()
    if env.json:
        write_json(env.stdout, metadata)
    else:
        env.out(metadata_text(metadata, env.connection.endpoint or "-"))
    return 0


def metadata_text(metadata: PoolMetadata, endpoint: str) -> str:
    fields = [
        ("endpoint", endpoint),
        ("created", format_moment(metadata.created_at)),
        ("updated", format_moment(metadata.last_updated_at)),
        ("runtimes", ", ".join(f"{p.name} {p.version}".strip() for p in metadata.runtimes) or "-"),
    ]
    kernel = metadata.kernel
    if kernel is not None:
        fields.append(("kernel", f"{kernel.name} {kernel.version}".strip()))
    blocks = [render_fields(fields)]
    if metadata.packages:
        rows = [
            (p.name, p.version) for p in sorted(metadata.packages, key=lambda p: p.name.lower())
        ]
        blocks.append(render_table(("PACKAGE", "VERSION"), rows))
    return "\n\n".join(blocks)


async def print_new_identifier(env: CommandEnv) -> int:
    identifier = new_identifier()
    if env.json:
        write_json(env.stdout, {"identifier": identifier})
    else:
        env.out(identifier)
    return 0
