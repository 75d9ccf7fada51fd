"""Pure domain of intake: state, commands, decide and evolve. No I/O, no framework imports."""
