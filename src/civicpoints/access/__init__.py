"""Who may do what: principals, roles, the pure checks and their SQL twins.

Every domain asks `Principal.may` for one object and applies `scope_clause` in its
repository for lists, so a reviewer's page is filtered before the LIMIT, never after.
"""

from civicpoints.access.principal import Grant, Principal, Role
from civicpoints.access.sql import scope_clause

__all__ = ["Grant", "Principal", "Role", "scope_clause"]
