"""What every app shares and no app owns: runs and their jobs, roles and permissions, command helpers, hashing,
JSON helpers, admin mixins, the job dashboard and the Content-Security-Policy middleware.

Nothing here imports a domain app (datasets, conversion, publishing): an import-linter contract keeps it so.
"""
