"""The pipeline on a legacy dataset's admin page: convert, publish and withdraw, as POST buttons and list actions.

`datasets` owns the dataset admin but may not import the apps above it, so it cannot name their services or pages.
Publishing sits at the top and may import everything below it: its admin module (loaded last, INSTALLED_APPS order)
unregisters `datasets.admin.LegacyDatasetAdmin` and registers this subclass, which adds the conversion and
publication steps and the links to the review page, the runs and the published package. The datasets admin keeps
working alone, and knows nothing of what is above it.

Each step runs through the service its command calls (`conversion_request`, `publication_request`,
`package_withdraw`): on the workers when REDIS_URL is set, here and now otherwise, like everywhere else.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from conversion.models import ConversionRun, DatasetDecision
from conversion.plan import workflow_problem
from conversion.runs import conversion_request
from datasets.admin import LegacyDatasetAdmin
from datasets.models import LegacyDataset
from migration_site.lib import roles
from migration_site.lib.runs import Run
from publishing.dashboard import StageFilter
from publishing.models import PublicationRun, PublishedPackage, package_page_url, public_refusal
from publishing.runs import conversion_problem, latest_conversion, package_withdraw, publication_request

# Asking for a publication or a withdrawal is adding a publication run; Django's own permission on the run model
# says so, and the Migration admins group holds it (publishing migration 0006). Converting is the re-run curators
# already start from the conversion runs (roles.REVIEW).
PUBLISH = roles.PUBLISH
CONVERT = roles.REVIEW
# Outcomes of a request that did not do what was asked: reported row by row.
FAILED = {ConversionRun.Status.FAILED, ConversionRun.Status.NOT_CONVERTIBLE, PublicationRun.Status.FAILED}


@dataclass(frozen=True)
class Pipeline:
    """What the dataset page shows of the steps after the harvest, and which buttons this user gets."""

    conversion: ConversionRun | None
    publication: PublicationRun | None
    package: PublishedPackage | None
    public_url: str
    not_convertible: str  # what people still have to do before a conversion
    not_ready: str  # why it cannot be published now
    may_convert: bool
    may_publish: bool


def pipeline_of(dataset: LegacyDataset, user: Any) -> Pipeline:
    package = PublishedPackage.objects.filter(dataset=dataset, purged_at=None).first()
    decision = DatasetDecision.objects.filter(dataset=dataset).first()
    refusal = public_refusal(dataset, decision)
    return Pipeline(
        conversion=ConversionRun.objects.filter(dataset=dataset).defer("log").first(),
        publication=PublicationRun.objects.filter(dataset=dataset).defer("log").first(),
        package=package,
        public_url=package_page_url(package.owner, package.name) if package and not package.withdrawn_at else "",
        not_convertible=workflow_problem(dataset),
        not_ready=f"may not be public: {refusal}" if refusal else conversion_problem(latest_conversion(dataset)),
        may_convert=roles.may(user, CONVERT),
        may_publish=roles.may(user, PUBLISH),
    )


class PipelineDatasetAdmin(LegacyDatasetAdmin):
    change_form_template = "admin/publishing/dataset_pipeline_change_form.html"
    actions = ["convert", "publish", "withdraw"]
    list_filter = [StageFilter, *LegacyDatasetAdmin.list_filter]  # the migration dashboard links to its stages

    def has_convert_permission(self, request: HttpRequest) -> bool:
        return roles.may(request.user, CONVERT)

    def has_publish_permission(self, request: HttpRequest) -> bool:
        return roles.may(request.user, PUBLISH)

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        steps = [
            path(f"<int:dataset_id>/{step}/", view(require_POST(getattr(self, f"{step}_view"))), name=f"dataset_{step}")
            for step in ("convert", "publish", "withdraw")
        ]
        return steps + super().get_urls()

    def change_view(self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: Any = None) -> Any:
        dataset = LegacyDataset.objects.filter(pk=object_id).first() if object_id.isdigit() else None
        extra = {**(extra_context or {}), "pipeline": pipeline_of(dataset, request.user) if dataset else None}
        return super().change_view(request, object_id, form_url, extra)

    # -- list actions ---------------------------------------------------------------------------------------------

    @admin.action(permissions=["convert"], description="Convert the selected datasets")
    def convert(self, request: HttpRequest, queryset: QuerySet[LegacyDataset]) -> None:
        self._each(
            request, queryset, "conversion", lambda dataset: conversion_request(dataset=dataset, user=request.user)
        )

    @admin.action(permissions=["publish"], description="Publish the selected datasets (their latest conversion)")
    def publish(self, request: HttpRequest, queryset: QuerySet[LegacyDataset]) -> None:
        self._each(
            request, queryset, "publication", lambda dataset: publication_request(dataset=dataset, user=request.user)
        )

    @admin.action(permissions=["publish"], description="Withdraw the selected datasets' published packages")
    def withdraw(self, request: HttpRequest, queryset: QuerySet[LegacyDataset]) -> None:
        reason = f"withdrawn from the admin by {request.user}"
        self._each(request, queryset, "withdrawal", lambda dataset: _withdraw(dataset, request.user, reason))

    def _each(
        self, request: HttpRequest, queryset: QuerySet[LegacyDataset], what: str, step: Callable[[LegacyDataset], Run]
    ) -> None:
        """Run the step for each dataset, report each refusal or failure on its own line, then one count."""
        outcomes: Counter[str] = Counter()
        for dataset in queryset.order_by("name"):
            outcome, problem = _attempt(dataset, step)
            outcomes[outcome] += 1
            if problem:
                self.message_user(request, f"{dataset.name}: {problem}", messages.WARNING)
        counts = ", ".join(f"{count} {outcome}" for outcome, count in sorted(outcomes.items()))
        level = (
            messages.SUCCESS if outcomes and set(outcomes) <= {"succeeded", "unchanged", "queued"} else messages.INFO
        )
        self.message_user(request, f"{sum(outcomes.values())} {what}(s) asked for: {counts or 'none'}.", level)

    # -- the buttons on the dataset page --------------------------------------------------------------------------

    def convert_view(self, request: HttpRequest, dataset_id: int) -> HttpResponse:
        roles.require(request.user, CONVERT)
        return self._button(request, dataset_id, lambda dataset: conversion_request(dataset=dataset, user=request.user))

    def publish_view(self, request: HttpRequest, dataset_id: int) -> HttpResponse:
        roles.require(request.user, PUBLISH)
        return self._button(
            request, dataset_id, lambda dataset: publication_request(dataset=dataset, user=request.user)
        )

    def withdraw_view(self, request: HttpRequest, dataset_id: int) -> HttpResponse:
        roles.require(request.user, PUBLISH)
        reason = request.POST.get("reason", "").strip() or f"withdrawn from the admin by {request.user}"
        return self._button(request, dataset_id, lambda dataset: _withdraw(dataset, request.user, reason))

    def _button(self, request: HttpRequest, dataset_id: int, step: Callable[[LegacyDataset], Run]) -> HttpResponse:
        dataset = get_object_or_404(LegacyDataset, pk=dataset_id)
        try:
            run = step(dataset)
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            level = messages.ERROR if run.status in FAILED else messages.SUCCESS
            self.message_user(request, format_html('<a href="{}">{}</a>', run_link(run), _label(run)), level)
        return HttpResponseRedirect(reverse("admin:datasets_legacydataset_change", args=[dataset.pk]))


def _withdraw(dataset: LegacyDataset, user: Any, reason: str) -> PublicationRun:
    package = PublishedPackage.objects.filter(dataset=dataset, purged_at=None).first()
    if package is None:
        raise ValidationError("nothing is published")
    return package_withdraw(package=package, user=user, reason=reason)


def _attempt(dataset: LegacyDataset, step: Callable[[LegacyDataset], Run]) -> tuple[str, str]:
    """The outcome of one request ("queued", "succeeded", "refused"...) and, when it did not happen, why."""
    try:
        run = step(dataset)
    except ValidationError as error:
        return "refused", " ".join(error.messages)
    if run.status in FAILED:
        return str(run.status).replace("_", " "), _label(run)
    return str(run.status), ""


def _label(run: Run) -> str:
    """Like "publication run 7 (withdraw): failed: nothing is published at berlin/budget", for a message."""
    action = f" ({run.action})" if isinstance(run, PublicationRun) else ""
    status = run.get_status_display()
    error = f": {run.error.strip().splitlines()[-1]}" if run.status in FAILED and run.error.strip() else ""
    return f"{run._meta.verbose_name} {run.pk}{action}: {status}{error}"


def run_link(run: Run) -> str:
    """The admin page of a run, for the messages and the dataset page."""
    meta = run._meta
    return reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[run.pk])


def register(site: admin.AdminSite) -> None:
    """Put the pipeline admin in place of the datasets' own (see the module's docstring)."""
    if site.is_registered(LegacyDataset):
        site.unregister(LegacyDataset)
    site.register(LegacyDataset, PipelineDatasetAdmin)
