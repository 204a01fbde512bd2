"""Keep order tokens and the webhook secret out of uvicorn's access log.

The order token is the only key to an order (QR, activation code), and it travels in
paths: `/api/orders/{token}`, `/epay/back/{token}`; the aggregator's webhook URL holds
a secret. uvicorn logs every path at INFO; this filter masks those parts.
"""

from __future__ import annotations

import logging
import re

# Leading slashes repeated (`//api/orders/…`) reach the same route: mask those too.
SECRET_IN_PATH = re.compile(
    r"^(/+(?:api/+orders|epay/+back|epay/+failure-back|aggregator/+webhook)/+)[^/?]+"
)


class MaskSecrets(logging.Filter):
    """Rewrite the path argument of uvicorn's access records (method, path, ...)."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        if isinstance(args, tuple) and len(args) >= 3 and isinstance(args[2], str):
            path = SECRET_IN_PATH.sub(r"\1***", args[2])
            if "?" in path:
                path = path.split("?", 1)[0] + "?***"
            record.args = (*args[:2], path, *args[3:])
        return True


def install() -> None:
    """Mask secrets in `uvicorn.access` (idempotent)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, MaskSecrets) for f in logger.filters):
        logger.addFilter(MaskSecrets())
