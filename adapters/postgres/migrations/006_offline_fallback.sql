-- The property's offline-passcode fallback (docs/FAILURE_MODES.md, "gateway offline"): NULL is off; otherwise, when a
-- lock's gateway is offline, an offline passcode is issued after offline_after_minutes of waiting, or at once when the
-- guest arrives within offline_arrival_within_minutes.
ALTER TABLE properties
    ADD COLUMN offline_after_minutes integer CHECK (offline_after_minutes >= 0),
    ADD COLUMN offline_arrival_within_minutes integer CHECK (offline_arrival_within_minutes >= 0),
    ADD CONSTRAINT offline_fallback_whole CHECK (
        (offline_after_minutes IS NULL) = (offline_arrival_within_minutes IS NULL));
