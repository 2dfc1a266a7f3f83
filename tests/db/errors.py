"""What a constraint violation looks like on either backend, for tests that expect the schema to refuse a row."""

import sqlite3

import asyncpg

# sqlite3 says "CHECK constraint failed"; PostgreSQL "... violates check constraint ...".
CONSTRAINT_ERRORS = (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)
CHECK_FAILED = "(?i)check constraint"
