"""The money path over real HTTP: worker ⇄ Epay sandbox, from checkout to a paid order."""

from __future__ import annotations

from epay_buyer import Shop


def test_paying_with_a_test_card_marks_the_order_paid_and_queues_provisioning(shop: Shop) -> None:
    answer = shop.checkout()
    payment = answer["payment"]

    paid_page = shop.pay(payment)

    assert paid_page.status_code == 303
    assert paid_page.headers["location"] == payment["backLink"]
    order = shop.wait_until(answer["order_id"], lambda o: o.status == "paid")
    assert order.payment is not None and order.payment.card_mask == "440563...5096"
    assert [j.kind for j in shop.services.store.jobs(order.id)] == ["provision"]
    view = shop.view(answer["token"])
    assert view["status"] == "paid"
    assert view["payment"]["card_mask"] == "440563...5096"
