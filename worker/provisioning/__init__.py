"""Buying the eSIM from the wholesale aggregator and following it until it is ready."""
