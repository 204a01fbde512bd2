"""Serve the built site like the CDN does: plain files, index.html for folders, 404.html when missing.

python -m scripts.static_site --dir output --port 8000
"""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount
from starlette.staticfiles import StaticFiles


def create_app(directory: Path) -> Starlette:
    return Starlette(routes=[Mount("/", StaticFiles(directory=directory, html=True))])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--dir", type=Path, default=Path("output"))
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    uvicorn.run(create_app(args.dir), host=args.host, port=args.port, log_level="warning")


if __name__ == "__main__":
    main()
