"""Salto Space (cloud API): adapter, pure mapping, HTTP status table, signed webhooks and sandbox."""
