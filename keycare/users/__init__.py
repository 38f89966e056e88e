"""Users and roles: the user model, the six roles (as groups), role predicates for `rules`,
and the user services and selectors."""
