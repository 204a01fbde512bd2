"""The chat's pieces on their own: facts when the aggregator is down."""

from __future__ import annotations

import pytest
from after_sale import AfterSale

from worker.console import refund_rules
from worker.provisioning.provider import ProviderError

pytestmark = pytest.mark.anyio


async def test_refund_facts_say_unknown_when_the_aggregator_does_not_answer(
        after_sale: AfterSale, monkeypatch: pytest.MonkeyPatch) -> None:
    order = await after_sale.order("delivered")

    async def down(*args: object) -> None:
        raise ProviderError("the aggregator is down", retryable=True)

    monkeypatch.setattr(after_sale.services.provider, "usage", down)
    facts = await refund_rules.facts(after_sale.services, order)
    assert (facts.delivered, facts.aggregator_status, facts.used_bytes) == (True, None, 0)
