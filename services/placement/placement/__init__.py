"""placement: COA reception (and municipalities for their own locations). Owns locations, placements,
transfers, municipality linking and the end of reception."""
