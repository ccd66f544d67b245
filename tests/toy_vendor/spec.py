"""The toy vendor's spec: its adapter, and webhooks in the generic Standard Webhooks convention."""

from __future__ import annotations

from adapters.standard_webhooks import GENERIC
from adapters.vendor_spec import VendorSpec
from tests.toy_vendor.client import ToyClient, ToyConfig

SPEC = VendorSpec(name="toy", title="Toy Locks", config_model=ToyConfig,
                  make_port=lambda config, card_key: ToyClient(config), webhooks=GENERIC)
