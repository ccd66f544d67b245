"""Pure domain: canonical models, the LockPort protocol and saga step functions. No I/O lives here."""
