"""Reads of the prepare and dosing stages, one module per area, each with a
fixed number of queries."""
