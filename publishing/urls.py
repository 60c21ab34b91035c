"""The public site's URLs, included at the site root.

The last pattern catches old openspending.org links (`/<dataset>` and `/<dataset>/...`). It cannot shadow the site's
own paths: it refuses the reserved first segments below at match time, so the resolver moves on to later patterns
(admin, django-rq, ...) instead of answering 404 itself.
"""

from django.urls import path, re_path

from publishing import views

app_name = "publishing"

RESERVED = (
    "admin",
    "static",
    "media",
    "django-rq",
    "packages",
    "registry",
    "feeds",
    "bulk",
    "data.json",
    ".well-known",
    "favicon.ico",
    "robots.txt",
)
_NOT_RESERVED = "|".join(name.replace(".", r"\.") for name in RESERVED)

urlpatterns = [
    path("", views.packages, name="home"),
    path("packages/", views.packages, name="packages"),
    path("packages/<str:owner>/<str:dataset>/", views.package, name="package"),
    path("packages/<str:owner>/<str:dataset>/datapackage.json", views.descriptor, name="descriptor"),
    path("packages/<str:owner>/<str:dataset>/data/<str:filename>", views.data, name="data"),
    path("registry/datapackage.json", views.registry_descriptor, name="registry_descriptor"),
    path("registry/packages.csv", views.registry_csv, name="registry_csv"),
    re_path(r"^registry/packages-(?P<version>[0-9a-f]{12})\.csv$", views.registry_csv, name="registry_csv_version"),
    path("data.json", views.data_json, name="data_json"),
    path(".well-known/api-catalog", views.api_catalog, name="api_catalog"),
    path("feeds/packages.atom", views.feed, name="feed"),
    path("feeds/archive/<str:month>.atom", views.feed_archive, name="feed_archive"),
    path("bulk/", views.bulk_index, name="bulk"),
    path("bulk/<str:year>/<str:owner>/<str:filename>", views.bulk_part, name="bulk_part"),
    re_path(
        rf"^(?!(?:{_NOT_RESERVED})(?:/|$))(?P<legacy_name>[^/]+)(?:/(?P<rest>.*))?$",
        views.legacy_redirect,
        name="legacy_redirect",
    ),
]
