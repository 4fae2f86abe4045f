"""Synthetic letters with a known generating process (the demo corpus and the test fixtures)."""
