"""lock-integration-service: PMS reservations in, working door keys out, with a tamper-evident trail."""
