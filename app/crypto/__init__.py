"""Keys kept outside the database, envelope encryption, blind indexes."""
