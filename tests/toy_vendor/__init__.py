"""A fourth vendor, written the way a new vendor is: one folder (client, sandbox, spec; the contract harness beside
them) and one registry line, which its tests add (``Registry((*SPECS, SPEC))``). Nothing else in the project names
it: ``tests/contract/test_toy_vendor.py`` runs the LockPort contract suite on it and
``tests/integration/test_toy_vendor_ingress.py`` sends it webhooks through the real ingress."""
