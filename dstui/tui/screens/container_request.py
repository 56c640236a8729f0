"""The request pane of a custom-container pool: method, path (a query after `?` is sent as
the query) and an optional body, sent to the selected session's own app through the pool
endpoint (`request_path`); shows the app's status, headers and body, bounded and escaped."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar
from urllib.parse import parse_qsl

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Input, Static, TextArea

from dstui.api.container_requests import ContainerResponse
from dstui.api.display import escape_controls
from dstui.api.errors import DynamicSessionsError
from dstui.api.protocol import SessionPoolAPI
from dstui.common.units import format_bytes
from dstui.tui.errors import describe_error

SHOWN_BODY_CHARS = 16 * 1024  # more than a screen can use; the rest is named, not drawn
MAX_BODY_BYTES = 256 * 1024  # what is fetched at most
SHOWN_HEADERS = 40
BODYLESS_METHODS = frozenset({"GET", "HEAD", "DELETE"})  # a body there means nothing to most apps


def split_target(target: str) -> tuple[str, dict[str, str]]:
    """`/api/items?page=2` → (`/api/items`, {"page": "2"})."""
    path, _, query = target.strip().partition("?")
    return path or "/", dict(parse_qsl(query, keep_blank_values=True))


def shown_target(target: str) -> str:
    """What the answer line names: the path with its query, as typed."""
    return escape_controls(target.strip() or "/")


def render_response(
    verb: str, target: str, answer: ContainerResponse, *, dropped_body: bool = False
) -> Content:
    style = "bold $success" if answer.status < 400 else "bold $error"
    lines = [Content.assemble((f"{answer.status}", style), f"  {verb} {shown_target(target)}")]
    if dropped_body:
        lines.append(Content.styled(f"the body was not sent: {verb} carries none", "$text-warning"))
    lines.append(Content.styled("── headers", "bold $secondary"))
    for name, value in list(answer.headers.items())[:SHOWN_HEADERS]:
        lines.append(
            Content.assemble((escape_controls(name), "$text-muted"), ": ", escape_controls(value))
        )
    if len(answer.headers) > SHOWN_HEADERS:
        lines.append(Content.styled(f"… {len(answer.headers) - SHOWN_HEADERS} more", "$text-muted"))
    size = format_bytes(len(answer.body))
    cut = " (the app sent more; the rest was not read)" if answer.truncated else ""
    lines.append(Content.styled(f"── body, {size}{cut}", "bold $secondary"))
    text = answer.text
    shown = escape_controls(text[:SHOWN_BODY_CHARS], keep_newlines=True)
    lines.append(Content(shown) if shown else Content.styled("(empty)", "$text-muted"))
    if len(text) > SHOWN_BODY_CHARS:
        lines.append(
            Content.styled(f"✂ shown: the first {SHOWN_BODY_CHARS} characters", "$text-warning")
        )
    return Content("\n").join(lines)


class ContainerRequestScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    ContainerRequestScreen #request-dialog { height: 90%; }
    ContainerRequestScreen #request-line { height: 1; }
    ContainerRequestScreen #request-method { width: 10; }
    ContainerRequestScreen #request-path { width: 1fr; }
    ContainerRequestScreen #request-body { height: 5; }
    ContainerRequestScreen #response-scroll { height: 1fr; }
    """
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+s", "send", "Send", id="request-send", priority=True),
        Binding("escape", "close", "Close", id="request-close"),
    ]

    def __init__(
        self,
        pool: SessionPoolAPI,
        identifier: str,
        answered: Callable[[str], object] | None = None,
    ) -> None:
        super().__init__(classes="dialog-screen")
        self.pool = pool
        self.identifier = identifier
        self.answered = answered  # the app answered: the pool has the session now
        self.answer: ContainerResponse | None = None

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog wide", id="request-dialog") as dialog:
            dialog.border_title = Content(f"Request to {escape_controls(self.identifier)}'s app")
            dialog.border_subtitle = "enter or ctrl+s sends · esc closes"
            with Horizontal(id="request-line"):
                yield Input("GET", id="request-method", compact=True)
                yield Input("/", id="request-path", compact=True, placeholder="/path?query")
            yield TextArea(
                id="request-body",
                placeholder="optional body (POST, PUT, PATCH; never sent with GET, HEAD, DELETE)",
            )
            with VerticalScroll(can_focus=True, id="response-scroll"):
                yield Static(
                    Content.styled("the app's answer shows here", "$text-muted"), id="response"
                )

    def on_mount(self) -> None:
        self.query_one("#request-path", Input).focus()

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.action_send()

    def action_send(self) -> None:
        method = self.query_one("#request-method", Input).value.strip() or "GET"
        target = self.query_one("#request-path", Input).value
        body = self.query_one("#request-body", TextArea).text
        self.send(method, target, body)

    def _show(self, content: Content) -> None:
        self.query_one("#response", Static).update(content)

    @work(group="container-request", exclusive=True, exit_on_error=False, description="Requesting")
    async def send(self, method: str, target: str, body: str) -> None:
        path, query = split_target(target)
        verb = method.upper()
        dropped_body = verb in BODYLESS_METHODS and bool(body)
        if verb in BODYLESS_METHODS:
            body = ""
        self._show(Content.styled(f"… {verb} {shown_target(target)}", "$text-muted"))
        try:
            answer = await self.pool.request_path(
                verb,
                path,
                self.identifier,
                body.encode("utf-8") if body else None,
                query=query or None,
                max_bytes=MAX_BODY_BYTES,
            )
        except DynamicSessionsError as exc:
            self._show(Content.styled(describe_error(exc), "$text-error"))
            return
        self.answer = answer
        self._show(render_response(verb, target, answer, dropped_body=dropped_body))
        if self.answered is not None:
            self.answered(self.identifier)

    def action_close(self) -> None:
        self.dismiss(None)
