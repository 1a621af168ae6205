"""Scratch probes behind preset choices: small grids that print a table, not experiments."""
