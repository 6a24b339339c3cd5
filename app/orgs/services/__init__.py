"""Org units and users: the rules of the tree and of accounts, each action audited.

Services take the actor first, check the rule, change the objects, flush, record the audit event
and return; they never commit. A refused rule raises `OrgError` with a message for the user.
"""

from app.orgs.services.common import OrgError, clean_text
from app.orgs.services.imports import (
    ImportRefused,
    ImportRow,
    LineError,
    check_import,
    import_org_units,
)
from app.orgs.services.org_units import (
    add_central_unit,
    create_org_unit,
    move_org_unit,
    rename_org_unit,
    retire_org_unit,
)
from app.orgs.services.users import (
    create_user,
    disable_user,
    enable_user,
    reset_password,
    update_user,
)

__all__ = [
    "ImportRefused",
    "ImportRow",
    "LineError",
    "OrgError",
    "add_central_unit",
    "check_import",
    "clean_text",
    "create_org_unit",
    "create_user",
    "disable_user",
    "enable_user",
    "import_org_units",
    "move_org_unit",
    "rename_org_unit",
    "reset_password",
    "retire_org_unit",
    "update_user",
]
