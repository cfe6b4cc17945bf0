"""Test data: inputs kept apart from the tests that use them."""
