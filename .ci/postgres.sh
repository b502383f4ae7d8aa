#!/usr/bin/env bash
# Placeholder until the db issue lands: exports nothing, so PostgreSQL tests skip.
true
