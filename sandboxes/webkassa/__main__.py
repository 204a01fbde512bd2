"""python -m sandboxes.webkassa --port 8400 (credentials default to .env.example's values)"""

from __future__ import annotations

import argparse

import uvicorn

from sandboxes.webkassa.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8400)
    parser.add_argument("--api-key", default="WKD-00000000-0000-0000-0000-000000000000")
    parser.add_argument("--login", default="demo@qazaq-esim.com")
    parser.add_argument("--password", default="demo")
    parser.add_argument("--cashbox", default="SWK00000001")
    args = parser.parse_args()
    app = create_app(args.api_key, args.login, args.password, args.cashbox)
    uvicorn.run(app, host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
