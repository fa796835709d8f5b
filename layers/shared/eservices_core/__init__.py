"""Shared library of every e-service (the Lambda layer): nothing e-service specific lives here."""
