"""`python -m worker.serve`: one worker process on a listening socket of its own, which its
sibling processes on this host share through SO_REUSEPORT, so the kernel spreads the
connections evenly over them.

Under `uvicorn worker.app:app --workers N` every process accepts from one socket and whichever
wakes first takes the connections: in a burst of 100 postLinks one of two processes took 60 to
98 of them, and the burst lasted as long as that process needed (benchmarks/bench_backends.py).
Run one of these per CPU, each supervised on its own (deploy/systemd/qazaq-worker@.service,
instances 1 and 2): when one dies, the kernel sends the next connections to the others.
Only processes of the same user can join the port (Linux's rule for SO_REUSEPORT).
"""

from __future__ import annotations

import argparse
import socket

import uvicorn


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to host:port that sibling processes can bind as well."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise SystemExit(f"worker: cannot listen on {host}:{port} ({exc.strerror}); is another "
                         "program (not a worker started this way) on that port?") from None
    return sock


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8100)
    parser.add_argument("--app", default="worker.app:app",
                        help="the ASGI app to serve (benchmarks pass a factory of their own)")
    parser.add_argument("--factory", action="store_true", help="--app names a factory")
    args = parser.parse_args(argv)
    sock = listening_socket(args.host, args.port)
    # The options the documented `uvicorn worker.app:app` command line uses; uvicorn reads
    # FORWARDED_ALLOW_IPS from the environment as it does there.
    config = uvicorn.Config(args.app, host=args.host, port=args.port, factory=args.factory,
                            server_header=False)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
