-- Short-lived facts every worker process must share (issue 13): used sign-in link nonces,
-- open "My eSIMs" sessions, when a sign-in link last went to an address (hashed), the
-- aggregator's notifyIds already handled. A mark counts until expires_at (epoch seconds).
CREATE TABLE marks (
    scope      text NOT NULL,
    key        text NOT NULL,
    expires_at double precision NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE INDEX marks_expiry ON marks (expires_at);
