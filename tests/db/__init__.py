"""The result log on SQLite and PostgreSQL."""
