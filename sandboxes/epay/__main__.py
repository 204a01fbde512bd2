"""`python -m sandboxes.epay --port 8200`: run the Epay sandbox on loopback."""

from __future__ import annotations

import argparse
import logging

import uvicorn

from . import create_app
from .options import (
    CALLBACK_MODES,
    POST_LINK_SOURCES,
    TERMINAL_MODES,
    TEST_TERMINAL,
    TOKEN_ERROR_STYLES,
    UNKNOWN_CARD_OUTCOMES,
    Options,
)


def parse(argv: list[str] | None = None) -> tuple[argparse.Namespace, Options]:
    defaults = Options()
    parser = argparse.ArgumentParser(prog="python -m sandboxes.epay", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8200)
    parser.add_argument("--public-url", default="",
                        help="base URL the browser uses (default: the request's own)")
    parser.add_argument("--client-id", default=defaults.client_id)
    parser.add_argument("--client-secret", default=defaults.client_secret)
    parser.add_argument("--terminal", action="append", default=[], metavar="UUID[=sms|dms]",
                        help=f"a terminal and its mode; repeatable (default {TEST_TERMINAL}=sms)")
    parser.add_argument("--two-step", action="store_true",
                        help="make every terminal given without a mode two-step (DMS)")
    parser.add_argument("--merchant-name", default=defaults.merchant_name)
    parser.add_argument("--callback", choices=CALLBACK_MODES, default=defaults.callback)
    parser.add_argument("--duplicates", type=int, default=defaults.duplicates)
    parser.add_argument("--late-seconds", type=float, default=defaults.late_seconds)
    parser.add_argument("--retries", type=int, default=defaults.retries)
    parser.add_argument("--retry-interval", type=float, default=defaults.retry_interval)
    parser.add_argument("--expires-in", type=int, default=defaults.expires_in)
    parser.add_argument("--expires-in-as-string", action="store_true")
    parser.add_argument("--token-error-style", choices=TOKEN_ERROR_STYLES,
                        default=defaults.token_error_style)
    parser.add_argument("--error-http-status", type=int, choices=(200, 400),
                        default=defaults.error_http_status)
    parser.add_argument("--new-seconds", type=float, default=defaults.new_seconds)
    parser.add_argument("--unknown-cards", choices=UNKNOWN_CARD_OUTCOMES,
                        default=defaults.unknown_cards)
    parser.add_argument("--post-link-source", choices=POST_LINK_SOURCES,
                        default=defaults.post_link_source)
    args = parser.parse_args(argv)

    default_mode = "dms" if args.two_step else "sms"
    terminals: dict[str, str] = {}
    for item in args.terminal or [TEST_TERMINAL]:
        uuid, _, mode = item.partition("=")
        if mode and mode not in TERMINAL_MODES:
            parser.error(f"--terminal {item}: the mode must be sms or dms")
        terminals[uuid] = mode or default_mode
    options = Options(
        client_id=args.client_id, client_secret=args.client_secret, terminals=terminals,
        merchant_name=args.merchant_name, public_url=args.public_url,
        expires_in=args.expires_in, expires_in_as_string=args.expires_in_as_string,
        token_error_style=args.token_error_style, callback=args.callback,
        duplicates=args.duplicates, late_seconds=args.late_seconds, retries=args.retries,
        retry_interval=args.retry_interval, post_link_source=args.post_link_source,
        error_http_status=args.error_http_status, new_seconds=args.new_seconds,
        unknown_cards=args.unknown_cards,
    )
    try:
        options.check()
    except (TypeError, ValueError) as error:
        parser.error(str(error))
    return args, options


def main(argv: list[str] | None = None) -> None:
    args, options = parse(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    uvicorn.run(create_app(options), host=args.host, port=args.port, log_level="info")


if __name__ == "__main__":
    main()
