"""Server-rendered pages (Jinja2): sign-in, inbox, task, case, start forms."""
