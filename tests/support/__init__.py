"""Test helpers that start or build things (servers, tiny model folders); not fixtures of
their own except where a module says so. Test modules import them as ``support.<module>``."""
