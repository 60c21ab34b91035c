"""The public site's URLs, included at the site root.

The last pattern catches old openspending.org links (`/<dataset>` and `/<dataset>/...`). It cannot shadow the site's
own paths: it refuses the reserved first segments below at match time, so the resolver moves on to later patterns
(admin, django-rq, ...) instead of answering 404 itself.
"""

from django.urls import path, re_path

from publishing import chart_views, site_views, views
from publishing.api import legacy_views
from publishing.api import views as api

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
    "sitemap.xml",
    "api",
)
_NOT_RESERVED = "|".join(name.replace(".", r"\.") for name in RESERVED)

urlpatterns = [
    path("", views.packages, name="home"),
    path("packages/", views.packages, name="packages"),
    path("packages/<str:owner>/<str:dataset>/", views.package, name="package"),
    path("packages/<str:owner>/<str:dataset>/datapackage.json", views.descriptor, name="descriptor"),
    path("packages/<str:owner>/<str:dataset>/data/<str:filename>", views.data, name="data"),
    path("packages/<str:owner>/<str:dataset>/totals.svg", chart_views.totals_svg, name="totals_svg"),
    path("registry/", site_views.registry, name="registry"),
    path("registry/datapackage.json", views.registry_descriptor, name="registry_descriptor"),
    path("registry/packages.csv", views.registry_csv, name="registry_csv"),
    re_path(r"^registry/packages-(?P<version>[0-9a-f]{12})\.csv$", views.registry_csv, name="registry_csv_version"),
    path("data.json", views.data_json, name="data_json"),
    path(".well-known/api-catalog", views.api_catalog, name="api_catalog"),
    path("feeds/", site_views.feeds_page, name="feeds"),
    path("feeds/packages.atom", views.feed, name="feed"),
    path("feeds/archive/<str:month>.atom", views.feed_archive, name="feed_archive"),
    path("bulk/", views.bulk_index, name="bulk"),
    path("bulk/<str:year>/<str:owner>/<str:filename>", views.bulk_part, name="bulk_part"),
    path("robots.txt", site_views.robots_txt, name="robots"),
    path("sitemap.xml", site_views.sitemap, name="sitemap"),
    path("favicon.ico", site_views.favicon, name="favicon"),
    # The read API (publishing/api/): babbage's routes, with or without their trailing slash.
    re_path(r"^api/3/cubes/?$", api.cube_list, name="api_cubes"),
    re_path(r"^api/3/cubes/(?P<cube>[^/]+)/model/?$", api.model, name="api_model"),
    re_path(r"^api/3/cubes/(?P<cube>[^/]+)/aggregate/?$", api.aggregate, name="api_aggregate"),
    re_path(r"^api/3/cubes/(?P<cube>[^/]+)/facts/?$", api.facts, name="api_facts"),
    re_path(r"^api/3/cubes/(?P<cube>[^/]+)/members/(?P<ref>[^/]+)/?$", api.members, name="api_members"),
    # The legacy API's two read routes, for old clients (publishing/api/legacy_views.py).
    re_path(r"^api/2/aggregate/?$", legacy_views.aggregate, name="api_legacy_aggregate"),
    re_path(r"^api/2/search/?$", legacy_views.search, name="api_legacy_search"),
    re_path(
        rf"^(?!(?:{_NOT_RESERVED})(?:/|$))(?P<legacy_name>[^/]+)(?:/(?P<rest>.*))?$",
        views.legacy_redirect,
        name="legacy_redirect",
    ),
]
