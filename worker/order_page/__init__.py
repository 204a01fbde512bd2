"""The buyer's order page: its JSON, the QR images and "send the e-mail again"."""
