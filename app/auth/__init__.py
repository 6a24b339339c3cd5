"""Sign-in, server-side sessions, two-factor authentication, passwords."""
