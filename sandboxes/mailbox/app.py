"""The demo mailbox: SMTP on one port stores each message as an .eml file; a web page shows them."""

from __future__ import annotations

import base64
import email
import email.policy
import html
import itertools
import time
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

_counter = itertools.count(1)


class SaveToFolder:
    """aiosmtpd handler: every accepted message becomes <folder>/<time>-<n>.eml."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        name = f"{time.time_ns()}-{next(_counter)}.eml"
        assert isinstance(envelope.content, bytes)
        (self.folder / name).write_bytes(envelope.content)
        return "250 Message accepted for delivery"


def start_smtp(folder: Path, host: str, port: int) -> Controller:
    controller = Controller(SaveToFolder(folder), hostname=host, port=port)
    controller.start()
    return controller


def _parse(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def create_web_app(folder: Path) -> Starlette:
    def messages() -> list[Path]:
        return sorted(folder.glob("*.eml"), reverse=True)

    async def index(request: Request) -> HTMLResponse:
        rows = []
        for path in messages():
            message = _parse(path)
            rows.append(
                f'<tr><td><a href="/message/{path.stem}">{html.escape(str(message["Subject"]))}</a>'
                f"</td><td>{html.escape(str(message['To']))}</td>"
                f"<td>{html.escape(str(message['Date']))}</td></tr>"
            )
        body = "".join(rows) or '<tr><td colspan="3">No mail yet.</td></tr>'
        return HTMLResponse(
            "<!doctype html><html lang=en><meta charset=utf-8><title>Demo mailbox</title>"
            '<meta http-equiv="refresh" content="5"><h1>Demo mailbox</h1>'
            "<p>Every e-mail the worker sends in the demo lands here.</p>"
            f"<table border=1 cellpadding=6><tr><th>Subject<th>To<th>Date</tr>{body}</table>"
        )

    async def show(request: Request) -> Response:
        path = folder / f"{request.path_params['name']}.eml"
        if not path.is_file() or path.parent != folder:
            return HTMLResponse("not found", status_code=404)
        message = _parse(path)
        part = message.get_body(preferencelist=("html", "plain"))
        content = part.get_content() if part else ""
        if part is not None and part.get_content_type() == "text/plain":
            content = f"<pre>{html.escape(content)}</pre>"
        # Inline images (cid:) become data: URLs so the QR shows as in a mail client.
        for related in message.walk():
            cid = related.get("Content-ID")
            if cid and related.get_content_maintype() == "image":
                data = base64.b64encode(related.get_content()).decode()
                content = content.replace(
                    f"cid:{cid.strip('<>')}", f"data:{related.get_content_type()};base64,{data}"
                )
        return HTMLResponse(content)

    return Starlette(
        routes=[Route("/", index), Route("/message/{name}", show)]
    )
