"""migration_site.lib as an installed app: it has no models; it is installed so that its system checks register."""

from django.apps import AppConfig


class LibConfig(AppConfig):
    name = "migration_site.lib"
    label = "migration_lib"  # "lib" alone is too likely to clash with a third-party app's label
    verbose_name = "Shared infrastructure"

    def ready(self) -> None:
        from migration_site.lib import checks  # noqa: F401  (registering is importing)
