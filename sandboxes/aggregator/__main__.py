"""Run the sandbox: python -m sandboxes.aggregator --host 127.0.0.1 --port 8300."""

from __future__ import annotations

import argparse

import uvicorn

from .app import create_app
from .options import Options


def main(argv: list[str] | None = None) -> None:
    defaults = Options()
    parser = argparse.ArgumentParser(prog="python -m sandboxes.aggregator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8300)
    parser.add_argument("--access-code", default=defaults.access_code)
    parser.add_argument("--secret-key", default=defaults.secret_key)
    parser.add_argument(
        "--signature-mode",
        choices=("off", "if-present", "required"),
        default=defaults.signature_mode,
    )
    parser.add_argument(
        "--allocation-delay",
        type=float,
        default=defaults.allocation_delay_s,
        help="seconds until ordered profiles are ready (default %(default)s)",
    )
    parser.add_argument(
        "--duplicate-mode", choices=("same-order", "310402"), default=defaults.duplicate_mode
    )
    parser.add_argument(
        "--pending-style", choices=("200010", "empty"), default=defaults.pending_style
    )
    parser.add_argument(
        "--rate-limit",
        choices=("off", "429", "envelope"),
        default=defaults.rate_limit_style,
        help="the 8 requests/s limit",
    )
    parser.add_argument("--balance", type=int, default=defaults.balance, help="1/10000 USD")
    parser.add_argument("--seed", type=int, default=defaults.seed, help="catalogue seed")
    parser.add_argument("--log-level", default="warning")
    args = parser.parse_args(argv)
    options = Options(
        access_code=args.access_code,
        secret_key=args.secret_key,
        signature_mode=args.signature_mode,
        allocation_delay_s=args.allocation_delay,
        duplicate_mode=args.duplicate_mode,
        pending_style=args.pending_style,
        rate_limit_style=args.rate_limit,
        balance=args.balance,
        seed=args.seed,
    )
    uvicorn.run(create_app(options), host=args.host, port=args.port, log_level=args.log_level)


if __name__ == "__main__":
    main()
