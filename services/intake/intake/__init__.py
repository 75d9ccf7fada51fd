"""intake: registration of arrivals (IND pre-registration, AVIM identification and registration,
COA arrival). Owns households, persons and the identity vault (V-numbers)."""
