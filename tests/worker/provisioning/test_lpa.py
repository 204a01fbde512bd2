"""Activation code parsing and the iOS one-tap link (spec §10)."""

from __future__ import annotations

import pytest

from worker.provisioning.lpa import BadActivationCode, ios_install_url, parse_lpa


@pytest.mark.parametrize(
    "ac",
    [
        "LPA:1$rsp-eu.simlessly.com$0F1E2D3C4B5A69788796A5B4C3D2E1F0",
        "1$rsp-eu.simlessly.com$0F1E2D3C4B5A69788796A5B4C3D2E1F0",
        "LPA:1$rsp-eu.simlessly.com$0F1E2D3C4B5A69788796A5B4C3D2E1F0$1.3.6.1.4.1.31746$1",
        "  lpa:1$rsp-eu.simlessly.com$0F1E2D3C4B5A69788796A5B4C3D2E1F0\n",
    ],
)
def test_smdp_address_and_matching_id_come_from_fields_one_and_two(ac: str) -> None:
    code = parse_lpa(ac)
    assert code.smdp_address == "rsp-eu.simlessly.com"
    assert code.matching_id == "0F1E2D3C4B5A69788796A5B4C3D2E1F0"
    assert code.lpa.startswith("LPA:1$rsp-eu.simlessly.com$0F1E2D3C4B5A69788796A5B4C3D2E1F0")


@pytest.mark.parametrize(
    "ac", ["", "LPA:2$rsp.example$SECRET1", "LPA:1$SECRET2", "LPA:1$$SECRET3", "SECRET4"]
)
def test_anything_else_is_refused_without_echoing_the_code(ac: str) -> None:
    with pytest.raises(BadActivationCode) as error:
        parse_lpa(ac)
    assert "SECRET" not in str(error.value)


def test_ios_link_carries_the_url_encoded_lpa() -> None:
    assert ios_install_url("LPA:1$rsp.example.com$AB/C+D") == (
        "https://esimsetup.apple.com/esim_qrcode_provisioning"
        "?carddata=LPA%3A1%24rsp.example.com%24AB%2FC%2BD"
    )
