-- The support desk's state on PostgreSQL (issue 13): the chat's threads, the console's
-- operators and claims as one JSON document each (worker/orders/documents.py), changed under
-- SELECT … FOR UPDATE; `version` grows with every change, so a reader re-parses only then.
CREATE TABLE documents (
    name    text PRIMARY KEY,
    body    jsonb NOT NULL DEFAULT '{}',
    version bigint NOT NULL DEFAULT 0
);
-- The chat's screenshots (re-encoded PNG/JPEG of at most 5 MB), named "<folder>/<name>".
CREATE TABLE files (
    name text PRIMARY KEY,
    body bytea NOT NULL
);
