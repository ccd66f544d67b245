"""Faust tables (RocksDB-backed changelog tables) and the ops views over them."""
