-- Card numbers the service allocated, per property. A number is held by one credential attempt (``holder``: the
-- credential's idempotency key and attempt) until the credential's validity has ended: never reused while a card
-- carrying it may still open a door (an offline Wiegand lock honours a blocklisted card until it expires), so no two
-- guests ever share one, and a worker that crashed after choosing a number finds the same one again.
CREATE TABLE card_numbers (
    tenant_id    text NOT NULL REFERENCES tenants,
    property_id  text NOT NULL,
    card_number  bigint NOT NULL CHECK (card_number > 0),
    holder       text NOT NULL,
    held_until   timestamptz NOT NULL,
    PRIMARY KEY (tenant_id, property_id, card_number)
);
CREATE UNIQUE INDEX card_numbers_by_holder ON card_numbers (tenant_id, property_id, holder);

ALTER TABLE card_numbers ENABLE ROW LEVEL SECURITY;
ALTER TABLE card_numbers FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON card_numbers USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE ON card_numbers TO lis_app;
