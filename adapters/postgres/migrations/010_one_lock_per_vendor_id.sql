-- A vendor lists credentials per lock id: two locks of one property with the same (vendor, vendor_lock_id) would
-- share every credential. Refused here as well as by `lis directory validate`. Across properties the same id can be
-- legitimate (two hotels' Wiegand zones both called "staff"); for a vendor that sends webhooks it is not, since a
-- tenant has one endpoint per vendor: `lis directory validate` refuses it tenant-wide and the ingress answers 422
-- `ambiguous_lock` rather than guess. An existing database holding such a pair stops this migration with a unique
-- violation naming it: give one of the two locks its right vendor id, then migrate.
CREATE UNIQUE INDEX locks_one_lock_per_vendor_id ON locks (tenant_id, property_id, vendor, vendor_lock_id);
