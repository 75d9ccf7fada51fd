"""Pure domain of the return service. No I/O."""
