"""Top-ups (issue 12): more data or days for an eSIM a buyer already has, paid like a sale."""
