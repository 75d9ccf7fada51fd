"""repatriation: the DT&V return service (folder services/return/, since `return` is a Python keyword).
Owns return cases, departure interviews, local chain decisions and departures."""
