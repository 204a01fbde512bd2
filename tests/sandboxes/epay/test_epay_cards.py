"""Card rules of the sandbox payform: Luhn, masks, types and which card does what."""

from __future__ import annotations

import datetime as dt

import pytest

from sandboxes.epay import cards

TODAY = dt.date(2026, 11, 25)


def test_every_listed_card_passes_luhn_so_the_form_accepts_it() -> None:
    for pan in [c.pan for c in cards.SPEC_CARDS] + list(cards.MAGIC_CARDS):
        assert cards.luhn_valid(pan), pan


@pytest.mark.parametrize("pan", ["4405639704015097", "44056397040", "4405 6397 0401 5096",
                                 "", "44056397040150961234"])
def test_a_mistyped_or_malformed_number_fails_luhn(pan: str) -> None:
    assert not cards.luhn_valid(pan)


def test_card_mask_keeps_the_first_six_and_last_four_digits() -> None:
    assert cards.card_mask("377514500004820") == "377514...4820"


@pytest.mark.parametrize(("pan", "kind"), [("4405639704015096", "VISA"),
                                           ("5522042705066736", "MasterCard"),
                                           ("377514500004820", "AMEX")])
def test_card_type_follows_the_leading_digits(pan: str, kind: str) -> None:
    assert cards.card_type(pan) == kind


def test_an_older_revision_of_a_test_card_still_approves() -> None:
    assert cards.decide("5522042705066736", "01/25", "525", TODAY, False).approved


def test_an_unlisted_card_declines_unless_the_switch_approves_it() -> None:
    pan = "4111111111111111"

    assert cards.decide(pan, "12/30", "123", TODAY, False).reason_code == 455
    assert cards.decide(pan, "12/30", "123", TODAY, True).approved
    assert cards.decide(pan, "10/26", "123", TODAY, True).reason_code == 478
