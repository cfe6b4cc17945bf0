"""Logging for Bastion and the apps that use it."""
