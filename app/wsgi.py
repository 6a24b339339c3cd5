"""The WSGI entry point for production servers: `gunicorn 'app.wsgi:app'`. Each worker builds
the app and warms it (app/web/warmup.py) before it takes a request."""

import gc

from app import create_app
from app.web.warmup import warm_worker

app = create_app()
warm_worker(app)
# What the worker built to start (the app, SQLAlchemy's mappers and statements, the catalogues)
# lives as long as the worker: moved out of the collector's generations, a full collection no
# longer walks it in the middle of a request (the national dashboard's p95 went from 380 ms to
# 180 ms in-process; benchmarks/national.py does the same).
gc.collect()
gc.freeze()
