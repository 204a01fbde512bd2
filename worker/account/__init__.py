"""The buyer's "My eSIMs" account: sign-in links by e-mail, sessions, the buyer's own orders."""
