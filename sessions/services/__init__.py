"""Actions of the prepare and dosing stages, one module per area: prepare
(modules, preferences, consents), scheduling (assessments, preparatory and
dosing sessions on the one calendar), record (what happens in a session),
recordings. One transaction each."""
