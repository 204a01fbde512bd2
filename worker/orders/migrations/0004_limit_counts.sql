-- The abuse limits' counts (issue 14; worker/rate_limits.py): one row per limit window and
-- client (an address, a hashed e-mail address), so every worker process and host counts
-- together. A count holds until expires_at (epoch seconds), then starts again from zero.
CREATE TABLE limit_counts (
    key        text PRIMARY KEY,
    count      integer NOT NULL,
    expires_at double precision NOT NULL
);
CREATE INDEX limit_counts_expiry ON limit_counts (expires_at);
