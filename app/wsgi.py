"""The WSGI entry point for production servers: `gunicorn 'app.wsgi:app'`. Each worker builds
the app and warms it (app/web/warmup.py) before it takes a request."""

from app import create_app
from app.web.warmup import warm_worker

app = create_app()
warm_worker(app)
