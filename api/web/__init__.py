"""Server-rendered pages (Jinja2): one module per page family over kit.py."""
