"""Agent tests run the real agents on Faust's in-memory store and channels: no broker, no RocksDB."""

import os

os.environ.setdefault("LIS_STORE", "memory://")
