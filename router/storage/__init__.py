"""Storage: the engine and sessions, the models, migrations, shared writes and leases."""
