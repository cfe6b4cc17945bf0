"""Security defaults Bastion applies to a Flask app: cookies, CSRF."""
