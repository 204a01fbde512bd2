"""The support console at {WORKER_URL}/console/ (issue 11): named operators, server-rendered pages."""
