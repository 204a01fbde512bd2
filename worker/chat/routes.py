"""The buyer's chat API (docs/architecture.md, "Support chat"): open a thread, write, read.

A thread opens only with its key; an unknown key is a bare 404, the same for every key.
Bad input is a 422 per field in the thread's language; more than 10 messages a minute from
one thread or one address is a 429 saying so.
"""

from __future__ import annotations

import asyncio
from typing import Any

from email_validator import EmailNotValidError, validate_email
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from worker.api_errors import errors, message
from worker.json_body import read_object
from worker.orders.model import LANGS, Lang
from worker.rate_limits import client_address
from worker.services import Services

from . import screenshots
from .notify import seen

MAX_TEXT = 2000
NO_STORE = {"Cache-Control": "no-store"}
NOT_FOUND = JSONResponse({"error": "not found"}, 404, headers=NO_STORE)


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services



def _text(body: dict[str, Any]) -> tuple[str, str | None]:
    """The message text and the key of what is wrong with it, if anything."""
    text = body.get("text")
    if not isinstance(text, str) or not text.strip():
        return "", "chat_text_required"
    if len(text) > MAX_TEXT:
        return "", "chat_text_too_long"
    return text.strip(), None


def _limited(request: Request, thread_id: str | None, lang: str) -> Response | None:
    keys = [f"address:{client_address(request)}"] + ([f"thread:{thread_id}"] if thread_id else [])
    if _services(request).chat_limits.allow(*keys):
        return None
    return JSONResponse({"error": message("chat_too_many", lang)}, 429,
                        headers={"Retry-After": "60", **NO_STORE})


async def open_thread(request: Request) -> Response:
    services = _services(request)
    body = await read_object(request)
    lang: Lang = next((code for code in LANGS if code == body.get("lang")), "en")
    problems: dict[str, str] = {}
    if body.get("lang") not in LANGS:
        problems["lang"] = "lang_invalid"
    text, wrong = _text(body)
    if wrong:
        problems["text"] = wrong
    email = None
    if body.get("email"):
        try:
            email = validate_email(str(body["email"]), check_deliverability=False).normalized.lower()
        except EmailNotValidError:
            problems["email"] = "chat_email_invalid"
    order_id = None
    if body.get("order_token"):
        order = services.store.by_token(str(body["order_token"]))
        if order is None:
            problems["order_token"] = "chat_order_unknown"
        else:
            order_id = order.id
    if problems:
        return JSONResponse(errors(problems, lang), 422, headers=NO_STORE)
    if (limited := _limited(request, None, lang)) is not None:
        return limited
    thread, key = await asyncio.to_thread(services.chat.open_thread, lang, text, email, order_id)
    seen(services, thread)
    return JSONResponse({"thread_key": key}, 201, headers=NO_STORE)


async def post_message(request: Request) -> Response:
    services = _services(request)
    thread = services.chat.by_key(request.path_params["key"])
    if thread is None:
        return NOT_FOUND
    text, wrong = _text(await read_object(request))
    if wrong:
        return JSONResponse(errors({"text": wrong}, thread.lang), 422, headers=NO_STORE)
    if (limited := _limited(request, thread.id, thread.lang)) is not None:
        return limited
    message_ = await asyncio.to_thread(services.chat.change, thread.id, lambda t: t.add("buyer", text))
    seen(services, thread)
    return JSONResponse({"id": message_.id, "at": message_.at}, 201, headers=NO_STORE)


async def post_screenshot(request: Request) -> Response:
    """The body is the image itself (PNG or JPEG, at most 5 MB)."""
    services = _services(request)
    thread = services.chat.by_key(request.path_params["key"])
    if thread is None:
        return NOT_FOUND
    try:
        image, extension = await asyncio.to_thread(screenshots.clean, await request.body())
    except screenshots.NotAScreenshot:
        return JSONResponse(errors({"screenshot": "chat_screenshot_invalid"}, thread.lang), 422,
                            headers=NO_STORE)
    if (limited := _limited(request, thread.id, thread.lang)) is not None:
        return limited
    message_ = await asyncio.to_thread(services.chat.add_screenshot, thread.id, image, extension)
    seen(services, thread)
    return JSONResponse({"id": message_.id, "at": message_.at}, 201, headers=NO_STORE)


async def read_thread(request: Request) -> Response:
    services = _services(request)
    thread = services.chat.by_key(request.path_params["key"])
    if thread is None:
        return NOT_FOUND
    seen(services, thread)
    return JSONResponse(thread.public(), headers=NO_STORE)
