"""Generic Wiegand: 26-bit H10301 cards written by a serial card encoder; adapter, line protocol and pty simulator."""
