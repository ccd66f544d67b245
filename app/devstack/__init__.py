"""Development and drill tooling: the embedded Kafka and PostgreSQL launchers, the vendor sandboxes' command line, the
simulated hotel day of ``lis dev``, the fault proxy, the conformance and hardware-in-the-loop runners, and the
point-in-time-recovery drill. The service itself never imports this package (an import-linter contract in
``pyproject.toml`` holds that); it is installed with the ``dev`` extra and used by ``lis dev``, the tests and CI."""
