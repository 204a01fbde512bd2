"""Callback delivery switches: normal, duplicate, late, lost, early, and retries on non-2xx."""

from __future__ import annotations

import time

from epay_helpers import Epay, Receiver


def test_a_normal_callback_arrives_once(epay: Epay, receiver: Receiver) -> None:
    epay.pay(epay.payment())

    callbacks = receiver.wait_for(1)
    time.sleep(0.3)

    assert len(receiver.callbacks) == len(callbacks) == 1
    assert epay.deliveries(1)[0]["http_status"] == 200


def test_duplicate_switch_delivers_the_same_body_n_times(epay: Epay, receiver: Receiver) -> None:
    epay.set(callback="duplicate", duplicates=3)

    epay.pay(epay.payment())

    callbacks = receiver.wait_for(3)
    assert len(callbacks) == 3
    assert callbacks[0].body == callbacks[1].body == callbacks[2].body


def test_late_switch_delays_the_callback(epay: Epay, receiver: Receiver) -> None:
    epay.set(callback="late", late_seconds=1.0)
    started = time.monotonic()

    epay.pay(epay.payment())

    assert receiver.wait_for(1, timeout=0.5) == []
    [callback] = receiver.wait_for(1, timeout=5)
    assert callback.at - started >= 1.0


def test_lost_callback_never_arrives_until_forced_through_the_control_api(
        epay: Epay, receiver: Receiver) -> None:
    epay.set(callback="lost")
    payment = epay.payment()
    epay.pay(payment)

    assert receiver.wait_for(1, timeout=1.0) == []
    [tx] = epay.transactions()
    forced = epay.http.post(f"/_sandbox/transactions/{tx['id']}/deliver")

    assert forced.json() == {"delivered": True}
    [callback] = receiver.wait_for(1)
    assert callback.body["invoiceId"] == payment["invoiceId"]
    assert callback.body["code"] == "ok"


def test_early_callback_has_arrived_before_the_browser_is_redirected(
        epay: Epay, receiver: Receiver) -> None:
    epay.set(callback="early")

    answer = epay.pay(epay.payment())

    assert answer.status_code == 303
    assert len(receiver.callbacks) == 1  # already there, without waiting


def test_a_non_2xx_answer_is_retried_until_accepted(epay: Epay, receiver: Receiver) -> None:
    epay.set(retries=3, retry_interval=0.1)
    receiver.answers[:] = [500, 503]

    epay.pay(epay.payment())

    callbacks = receiver.wait_for(3)
    time.sleep(0.3)
    assert len(receiver.callbacks) == len(callbacks) == 3
    attempts = [(d["attempt"], d["http_status"]) for d in epay.deliveries(3)]
    assert attempts == [(1, 500), (2, 503), (3, 200)]


def test_without_retries_a_failed_delivery_is_not_repeated(epay: Epay,
                                                           receiver: Receiver) -> None:
    receiver.answers[:] = [500]

    epay.pay(epay.payment())

    receiver.wait_for(1)
    time.sleep(0.3)
    assert len(receiver.callbacks) == 1


def test_an_unreachable_post_link_is_logged_with_the_error(epay: Epay) -> None:
    epay.pay(epay.payment(post_links=False, postLink="http://127.0.0.1:9/post-link"))

    log = epay.deliveries(1)
    assert log[0]["http_status"] is None
    assert log[0]["note"] == "ConnectError"


def test_payment_object_post_link_wins_when_the_switch_says_so(epay: Epay,
                                                               receiver: Receiver) -> None:
    epay.set(post_link_source="payment_object")
    payment = epay.payment() | {"postLink": f"{receiver.url}/failure-post-link"}

    epay.pay(payment)

    [callback] = receiver.wait_for(1)
    assert callback.path == "/failure-post-link"
    assert callback.body["code"] == "ok"


def test_dashboard_lists_the_transaction_and_its_delivery(epay: Epay,
                                                          receiver: Receiver) -> None:
    payment = epay.payment()
    epay.pay(payment)
    epay.deliveries(1)

    page = epay.http.get("/_sandbox/")

    assert page.status_code == 200
    assert payment["invoiceId"] in page.text
    assert f"{receiver.url}/post-link" in page.text
    assert "CHARGE" in page.text


def test_unknown_option_is_refused_with_its_name(epay: Epay) -> None:
    answer = epay.http.post("/_sandbox/options", json={"callbacks": "lost"})

    assert answer.status_code == 422
    assert "unknown option 'callbacks'" in answer.json()["error"]


def test_bad_switch_value_is_refused_and_changes_nothing(epay: Epay) -> None:
    answer = epay.http.post("/_sandbox/options", json={"callback": "lost", "retries": -1})

    assert answer.status_code == 422
    assert "retries=-1" in answer.json()["error"]
    assert epay.http.get("/_sandbox/options").json()["callback"] == "normal"


def test_dashboard_button_resends_a_lost_callback_and_returns_to_the_dashboard(
        epay: Epay, receiver: Receiver) -> None:
    epay.set(callback="lost")
    epay.pay(epay.payment())
    [tx] = epay.transactions()

    answer = epay.http.post(f"/_sandbox/transactions/{tx['id']}/deliver",
                            headers={"Accept": "text/html"})

    assert answer.status_code == 303
    assert answer.headers["location"] == "/_sandbox/"
    assert len(receiver.wait_for(1)) == 1
