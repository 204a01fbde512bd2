-- Orders and their jobs (issue 13). The order itself is one JSON document (`data`, what
-- the embedded store keeps as a record); the columns beside it are what lookups need.
CREATE TABLE orders (
    id         text PRIMARY KEY,            -- the Epay invoice id
    token      text NOT NULL UNIQUE,        -- the order page's secret
    suffix     text NOT NULL UNIQUE,        -- the id's last six digits (Epay wants them unique)
    email_key  text,                        -- sha256 of the address (records.email_key), never the address
    phone      text,
    iccid      text,
    status     text NOT NULL,
    -- not finished = the embedded store's live set: the reconciler's and the metrics' worklist
    finished   boolean NOT NULL DEFAULT false,
    rev        integer NOT NULL DEFAULT 1,
    created_at text NOT NULL,
    updated_at text NOT NULL,
    data       jsonb NOT NULL
);
CREATE INDEX orders_email_key ON orders (email_key);
CREATE INDEX orders_phone ON orders (phone);
CREATE INDEX orders_iccid ON orders (iccid);
CREATE INDEX orders_live ON orders (id) WHERE NOT finished;

CREATE TABLE jobs (
    id           bigserial PRIMARY KEY,
    kind         text NOT NULL,
    order_id     text NOT NULL REFERENCES orders (id),
    attempts     integer NOT NULL DEFAULT 0,
    due_at       double precision NOT NULL,  -- epoch seconds
    last_error   text,
    requests     integer NOT NULL DEFAULT 0, -- bumped when asked for again while pending
    created_at   text NOT NULL,
    -- A claimed job: who runs it and until when; after that another process takes it over.
    leased_by    text,
    leased_until double precision,
    UNIQUE (order_id, kind)                  -- a kind asked for twice is one job
);
CREATE INDEX jobs_due ON jobs (due_at);
