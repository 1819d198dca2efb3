"""Forms of the prepare and dosing stages, one module per area."""
