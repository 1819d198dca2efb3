"""The end of integration (the therapist closes the integration plan, the
course moves to reconnect) and reconnect in the portal (further treatment,
contact opt-ins)."""
