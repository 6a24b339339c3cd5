"""Append-only, hash-chained audit trail.

For other modules:

* ``app.audit.services.record(actor, action, obj, *, object_type, object_ref, org_unit_id,
  outcome, reason, details)`` in the service, after ``db.session.flush()`` of the change, in
  the same transaction (it commits or rolls back with it). Call it after the changes it
  describes: on PostgreSQL it locks the chain head until commit.
* ``record_denial(...)`` (used by ``app.permissions.deny`` / ``not_found``) commits on its own.
* ``app.audit.queries.case_access_history(case_code)`` -> ``[AccessEntry(occurred_at,
  username, role, action), ...]``, newest first: who viewed or changed a case (unscoped: load
  the case through your scoped query first).
* ``app.audit.verify.make_checkpoint(key, seq, hash, occurred_at).encode()`` signs a chain
  position; ``flask audit verify --checkpoint`` checks it.
* ``app.audit.guards.install_guards(op.get_bind(), dialect)`` from the Alembic migration.
"""
