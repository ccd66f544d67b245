"""The vendor webhook ingress: an aiohttp service that verifies, normalises and produces vendor callbacks."""
