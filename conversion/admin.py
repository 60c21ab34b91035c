"""The conversion app's admin, registered from its two subjects: the mapping review and the conversion runs."""

from conversion import run_admin  # noqa: F401 - registers the conversion run admin
from conversion.review import admin as review_admin  # noqa: F401 - registers the review admin
