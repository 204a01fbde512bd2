"""Everything one running sandbox holds: options, catalogue, account, faults, webhooks."""

from __future__ import annotations

import copy

from .catalogue import build
from .faults import Faults, RateLimiter
from .options import Options
from .state import Account
from .webhooks import Notifier


class Sandbox:
    def __init__(self, options: Options) -> None:
        self.start_options = copy.deepcopy(options)
        self.options = options
        self.catalogue = build(options.seed)
        self.notifier = Notifier(options)
        self.account = Account(options, self.catalogue, self.notifier)
        self.faults = Faults()
        self.limiter = RateLimiter()

    def reset(self) -> None:
        """Start-up options again, a full balance, no orders, webhook, faults or log."""
        for name, value in vars(copy.deepcopy(self.start_options)).items():
            setattr(self.options, name, value)
        self.account.reset()
        self.faults.rules.clear()
        self.limiter.seen.clear()
        self.notifier.cancel_pending()
        self.notifier.url = ""
        self.notifier.log.clear()
