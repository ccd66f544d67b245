"""Salto Space: users with PINs, mobile keys and encoder-written cards through gateways; signed event callbacks."""

from __future__ import annotations

from adapters.salto.client import SaltoClient, SaltoConfig
from adapters.salto.webhook import FORMAT
from adapters.vendor_spec import VendorSpec

# Salto encodes its own cards: no card number from us (no card_number_max).
SPEC = VendorSpec(name="salto", title="Salto Space", config_model=SaltoConfig,
                  make_port=lambda config, card_key: SaltoClient(config), webhooks=FORMAT,
                  dev_sandbox="adapters.salto.dev_sandbox")
