"""TTLock Open Platform (cloud API v3): passcodes, cards and app keys through a gateway; callbacks confirmed."""

from __future__ import annotations

from adapters.ttlock.callbacks import FORMAT
from adapters.ttlock.client import TTLockClient, TTLockConfig
from adapters.vendor_spec import VendorSpec

SPEC = VendorSpec(name="ttlock", title="TTLock", config_model=TTLockConfig,
                  make_port=lambda config, card_key: TTLockClient(config),
                  card_number_max=4_294_967_295, webhooks=FORMAT,
                  dev_sandbox="adapters.ttlock.dev_sandbox")
