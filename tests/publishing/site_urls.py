"""The site's URLs with the public site at the root, as migration_site/urls.py has them once it includes
`publishing.urls` in place of its redirect to the admin; until then this adds the include the same way."""

from django.urls import URLResolver, include, path

from migration_site import urls as site


def _wired() -> bool:
    return any(isinstance(item, URLResolver) and item.app_name == "publishing" for item in site.urlpatterns)


if _wired():
    urlpatterns = list(site.urlpatterns)
else:
    urlpatterns = [item for item in site.urlpatterns if str(getattr(item, "pattern", "")) != ""]
    urlpatterns.insert(1, path("", include("publishing.urls")))
