"""python -m sandboxes.mailbox --smtp-port 8025 --web-port 8026 --folder var/demo/mail"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from sandboxes.mailbox.app import create_web_app, start_smtp


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=8025)
    parser.add_argument("--web-port", type=int, default=8026)
    parser.add_argument("--folder", type=Path, default=Path("var/demo/mail"))
    args = parser.parse_args()
    controller = start_smtp(args.folder.resolve(), args.host, args.smtp_port)
    try:
        uvicorn.run(create_web_app(args.folder.resolve()), host=args.host, port=args.web_port,
                    log_level="warning")
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
