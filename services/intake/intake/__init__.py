"""intake: registration of arrivals (IND pre-registration, AVIM identification and registration,
COA arrival). Owns households, persons and (later) the identity vault."""
