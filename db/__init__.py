"""Pseudonymised result log: settings, pseudonyms, records, the never-blocking `ResultLog`,
migrations and the `palsy-db` CLI. Imports no sibling package: the bot converts its results
into `db.records.ScreeningRecord`."""
