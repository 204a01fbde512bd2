"""The support operator's tools: search, timeline, resend, refunds, queues, CSV, reconciliation,
personal data. Shared by the operator API (routes.py) and the `invoke` tasks."""
