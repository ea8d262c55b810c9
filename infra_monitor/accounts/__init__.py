"""Accounts: users with a role, API tokens and web sessions (NetBox's ``users`` app)."""
