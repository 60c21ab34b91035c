"""Mapping review: proposals from a legacy model, the rules a mapping must follow, the review page and its admin,
and the services that record every curator's and migration admin's change with its reason."""
