"""Pure domain of placement: locations and the reception of households. No I/O."""
