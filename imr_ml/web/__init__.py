"""`imr-ml serve`: the scorer as a small web app (form, batch upload, JSON API).

Pages are rendered on the server with Jinja2 autoescaping, so whatever a user types comes
back as text; there is no JavaScript framework, only a tiny same-origin script that sorts the
batch table. `app.create_app` builds the ASGI app around one loaded model.
"""
