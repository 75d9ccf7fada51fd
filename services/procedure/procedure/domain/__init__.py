"""Pure domain of procedure. No I/O."""
