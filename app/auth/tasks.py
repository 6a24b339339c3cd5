"""Periodic jobs of the auth module (app/jobs)."""

from app import jobs

jobs.every("auth-end-expired-sessions", "app.auth.sessions:end_expired_sessions", minutes=15)
