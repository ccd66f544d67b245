"""Generic Wiegand card encoders on a serial line: H10301 cards (numbers 1..65535); no webhooks (the desk's line)."""

from __future__ import annotations

from adapters.vendor_spec import VendorSpec
from adapters.wiegand.client import WiegandClient, WiegandConfig

SPEC = VendorSpec(name="wiegand", title="Generic Wiegand", config_model=WiegandConfig,
                  make_port=lambda config, card_key: WiegandClient(config, card_key=card_key),
                  card_number_max=65_535,
                  dev_sandbox="adapters.wiegand.dev_sandbox")
