"""Webkassa API v4 sandbox: sale and return receipts, shifts, idempotency keys and outages."""
