"""The pool's properties as ARM describes them, for the Metadata pane (`m`, next to /metadata),
and the warning when the loaded sessions approach maxConcurrentSessions (users meet 429)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.content import Content

from dstui.api.display import escape_controls
from dstui.tui.formatting import format_duration

if TYPE_CHECKING:
    from dstui.api.arm_models import SessionPoolResource

NEAR_LIMIT = 0.8  # from this share of maxConcurrentSessions on, users are about to meet 429
_LABEL = 12


def _row(label: str, value: str) -> Content:
    return Content.assemble((f"{label:<{_LABEL}}", "bold $secondary"), escape_controls(value))


def _seconds(value: int | None) -> str:
    return "—" if value is None else format_duration(float(value))


def capacity_warning(loaded: int, more: bool, maximum: int | None) -> str | None:
    """`42 of 50 sessions (84%)…` once the loaded sessions reach 80 % of the maximum."""
    if not maximum or loaded < NEAR_LIMIT * maximum:
        return None
    share = round(100 * loaded / maximum)
    least = "at least " if more else ""
    return (
        f"{least}{loaded} of {maximum} sessions in use ({share}%): users meet 429 "
        f"(too many sessions) at {maximum}"
    )


def render_properties(pool: SessionPoolResource, loaded: int, more: bool) -> Content:
    """A few dense rows (the pane is small at 80×24), the capacity warning first."""
    scale = pool.scale
    life = pool.lifecycle
    identities = ", ".join(
        f"{m.identity or '?'} ({m.lifecycle or '?'})" for m in pool.managed_identities
    )
    maximum = scale.max_concurrent_sessions
    lines = [Content.styled("pool properties (ARM — touches no session)", "bold $primary")]
    warning = capacity_warning(loaded, more, maximum)
    if warning is not None:
        lines.append(Content.styled(f"⚠ {warning}", "bold $text-warning"))
    lines += [
        _row(
            "type",
            f"{pool.container_type or '?'} · {pool.pool_management_type or '?'} management · "
            f"{pool.provisioning_state or '?'}",
        ),
        _row(
            "scale",
            f"max {maximum or '?'} concurrent sessions · "
            f"{scale.ready_session_instances or 0} ready",
        ),
        _row(
            "lifecycle",
            f"{life.type or '?'} · cooldown {_seconds(life.cooldown_s)} · max alive "
            f"{_seconds(life.max_alive_s)}",
        ),
        _row("network", f"{pool.egress or 'egress ?'} · identities {identities or 'none'}"),
    ]
    template = pool.custom_container
    if template is not None:
        port = "?" if template.target_port is None else str(template.target_port)
        for container in template.containers:
            cpu = "?" if container.cpu is None else f"{container.cpu:g}"
            lines.append(
                _row(
                    "container",
                    f"{container.image or '?'} · {cpu} CPU · {container.memory or '?'} · "
                    f"target port {port}",
                )
            )
        if not template.containers:
            lines.append(_row("container", f"target port {port}"))
    return Content("\n").join(lines)


def render_unavailable(note: str) -> Content:
    return Content.styled(note, "$text-muted")
