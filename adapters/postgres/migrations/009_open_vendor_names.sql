-- Which vendors exist is the registry's business (adapters/registry.py), not the schema's: a vendor added as a folder
-- needs no migration. The name keeps the shape every vendor name has (the webhook path's and receipts' check).
ALTER TABLE locks
    DROP CONSTRAINT locks_vendor_check,
    ADD CONSTRAINT locks_vendor_check CHECK (vendor ~ '^[a-z][a-z0-9_-]{0,31}$');
