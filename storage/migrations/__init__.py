"""Schema migrations, applied in order of their number by `storage.database`."""
