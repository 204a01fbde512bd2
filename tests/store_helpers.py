"""Orders for the store tests."""

from __future__ import annotations

from worker.orders.model import Order


def make_order(n: int, **changes: object) -> Order:
    """Order number n: id 10 digits, last six unique for n < 1,000,000."""
    values: dict[str, object] = {
        "id": str(1_000_000_000 + n),
        "token": f"token-{n:06d}-" + "x" * 32,
        "status": "awaiting_payment",
        "lang": "en",
        "email": f"buyer{n}@example.kz",
        "phone": "+77012345678",
        "package_code": "TR-10GB-30D",
        "destination": "TR",
        "package_title": "Turkey 10 GB, 30 days",
        "amount": 4990,
        "secret_hash": f"secret-{n}",
    }
    values.update(changes)
    return Order(**values)  # type: ignore[arg-type]
