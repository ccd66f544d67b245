-- Per-property settings. time_zone: the property's IANA zone, in which local PMS times and dates are read, with
-- its default check-in and check-out times (local). room_policy: what a booking with a room the directory does not
-- know gets — 'partial' (the known rooms are keyed, the unknown ones dead-lettered with the reservation) or
-- 'all_or_nothing' (the whole event is dead-lettered).
CREATE TABLE properties (
    tenant_id       text NOT NULL REFERENCES tenants,
    property_id     text NOT NULL,
    time_zone       text NOT NULL,
    check_in        time NOT NULL DEFAULT '15:00',
    check_out       time NOT NULL DEFAULT '11:00',
    early_check_in  time NOT NULL DEFAULT '12:00',
    late_checkout   time NOT NULL DEFAULT '14:00',
    room_policy     text NOT NULL DEFAULT 'partial' CHECK (room_policy IN ('partial', 'all_or_nothing')),
    PRIMARY KEY (tenant_id, property_id)
);

ALTER TABLE properties ENABLE ROW LEVEL SECURITY;
ALTER TABLE properties FORCE ROW LEVEL SECURITY;
CREATE POLICY tenant_isolation ON properties USING (tenant_id = current_setting('app.tenant_id', true))
    WITH CHECK (tenant_id = current_setting('app.tenant_id', true));
GRANT SELECT, INSERT, UPDATE, DELETE ON properties TO lis_app;
