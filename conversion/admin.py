"""The conversion app's admin, registered from its subjects: the mapping review, the conversion runs, organisations."""

from conversion import (
    organisation_admin,  # noqa: F401 - registers the organisation admin
    run_admin,  # noqa: F401 - registers the conversion run admin
)
from conversion.review import admin as review_admin  # noqa: F401 - registers the review admin
