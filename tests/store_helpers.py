"""Orders for the store tests."""

from __future__ import annotations

from worker.orders.model import Order, Payment, Profile

LPA = "LPA:1$rsp.example.com$ABCD1234"


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


def delivered_order(**changes: object) -> Order:
    """Order 7, paid and delivered in Russian, its e-mail sent."""
    order = make_order(
        7, status="delivered", lang="ru", email="buyer@example.kz",
        payment=Payment(transaction_id="tx-1", reference="512345678901", card_mask="440563...5096",
                        approval_code="774411", card_type="VISA"),
        profile=Profile(esim_tran_no="T1", iccid="8986000000000000001", lpa=LPA,
                        smdp_address="rsp.example.com", activation_code="ABCD1234",
                        provider_order_no="B1", expires_at="2027-01-01T00:00:00+00:00",
                        total_bytes=10737418240, used_bytes=0),
        email_sent_at="2026-11-25T10:00:00+00:00",
    )
    for key, value in changes.items():
        setattr(order, key, value)
    return order
