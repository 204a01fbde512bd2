"""A local mailbox for `make demo`: an SMTP server that keeps every message, and a web page to read them."""
