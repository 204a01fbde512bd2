"""The support chat (issue 11): threads between a buyer and support, kept beside the order store."""
