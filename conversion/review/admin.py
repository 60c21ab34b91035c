"""The curator's review queue, the per-dataset mapping page, admin decisions, and the review trail. Thin: every
write goes through conversion.review.services, which also enforces who may do what."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import URLPattern, path, reverse
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import SafeString
from django.views.decorators.http import require_POST

from conversion.models import DatasetDecision, DimensionMapping, DimensionMappingQuerySet, ReviewEvent
from conversion.review import services
from conversion.review.forms import DecisionForm, ReasonForm, ReopenForm, SaveForm
from conversion.review.page import (
    check_rows,
    error_summary,
    invalid_fields,
    mapping_rows,
    page_context,
    preview_for,
)
from datasets.models import LegacyDataset
from migration_site.lib import roles
from migration_site.lib.admin import ReadOnlyAdminMixin

Status = DimensionMapping.Status


class QueueFilter(admin.SimpleListFilter):
    """The queue opens on what needs review, mappings sent back first; decided ones are one click away."""

    title = "review"
    parameter_name = "review"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [
            ("ambiguous", "Ambiguous, needs a curator"),
            ("sent_back", "Sent back, needs another curator"),
            ("approved", "Approved"),
            ("dropped", "Dropped from the package"),
            ("all", "All"),
        ]

    def choices(self, changelist: ChangeList) -> Any:
        value = self.value() or "needs"
        yield {
            "selected": value == "needs",
            "query_string": changelist.get_query_string(remove=[self.parameter_name]),
            "display": "Needs review (default)",
        }
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request: HttpRequest, queryset: QuerySet[Any]) -> QuerySet[Any]:
        value = self.value()
        assert isinstance(queryset, DimensionMappingQuerySet)
        if value == "all":
            return queryset
        if value in (Status.APPROVED, Status.DROPPED, Status.SENT_BACK):
            return queryset.filter(status=value)
        if value == "ambiguous":
            return queryset.needs_review().filter(ambiguous=True)
        return queryset.needs_review()


@admin.register(DimensionMapping)
class DimensionMappingAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    # Five columns that fit 1280 px beside the filters: the mapping with its dataset, the proposal, how sure, the
    # status and why.
    list_display = ["mapping_shown", "target", "confidence_shown", "status", "reasons_short"]
    list_display_links = None
    list_filter = [QueueFilter, "kind", "ambiguous", "status"]
    list_select_related = ["dataset"]
    search_fields = ["legacy_path", "dataset__name", "dataset__label"]
    ordering = ["-ambiguous", "confidence", "dataset__name", "position"]
    list_per_page = 100
    actions = ["approve_confident", "approve_open"]
    allow_change = True  # curators change mappings on the review page, which the change link leads to

    def has_review_permission(self, request: HttpRequest) -> bool:
        return roles.may(request.user, roles.REVIEW)

    def change_view(self, request: HttpRequest, object_id: str, *args: Any, **kwargs: Any) -> HttpResponse:
        mapping = get_object_or_404(DimensionMapping, pk=object_id)
        return HttpResponseRedirect(_dataset_url(mapping.dataset_id) + f"#mapping-{mapping.pk}")

    def get_urls(self) -> list[URLPattern]:
        view = self.admin_site.admin_view
        return [
            path("dataset/<int:dataset_id>/", view(self.dataset_view), name="conversion_dataset_review"),
            path("dataset/<int:dataset_id>/preview/", view(self.preview_view), name="conversion_dataset_preview"),
            path("dataset/<int:dataset_id>/decide/", view(self.decide_view), name="conversion_dataset_decide"),
            path("<int:pk>/approve/", view(self.approve_view), name="conversion_mapping_approve"),
            path("<int:pk>/drop/", view(self.drop_view), name="conversion_mapping_drop"),
            path("<int:pk>/send-back/", view(self.send_back_view), name="conversion_mapping_send_back"),
            path("<int:pk>/reopen/", view(self.reopen_view), name="conversion_mapping_reopen"),
            *super().get_urls(),
        ]

    # -- list columns -------------------------------------------------------------------------------------------

    @admin.display(description="mapping", ordering="legacy_path")
    def mapping_shown(self, mapping: DimensionMapping) -> SafeString:
        url = _dataset_url(mapping.dataset_id) + f"#mapping-{mapping.pk}"
        return format_html(
            '<a href="{}"><strong>{}</strong></a><br><span class="kind">{}</span>',
            url,
            mapping.legacy_path,
            mapping.dataset.name,
        )

    @admin.display(description="proposed column type")
    def target(self, mapping: DimensionMapping) -> SafeString:
        return format_html(
            '<code class="type">{}</code><br>&rarr; <code>{}</code>', mapping.column_type, mapping.field_name
        )

    @admin.display(description="confidence", ordering="confidence")
    def confidence_shown(self, mapping: DimensionMapping) -> SafeString:
        flag = ("flag", "ambiguous") if mapping.ambiguous else ("flag ok", "confident")
        return format_html('{}<br><span class="{}">{}</span>', f"{mapping.confidence:.0%}", *flag)

    @admin.display(description="why")
    def reasons_short(self, mapping: DimensionMapping) -> str:
        text = "; ".join(mapping.reasons)
        return text if len(text) <= 160 else text[:159] + "…"

    # -- bulk approval, with a confirmation page -----------------------------------------------------------------

    @admin.action(permissions=["review"], description="Approve the selected confident mappings")
    def approve_confident(self, request: HttpRequest, queryset: QuerySet[DimensionMapping]) -> HttpResponse | None:
        return self._approve_in_bulk(
            request, queryset, "approve_confident", services.approval_refusal, services.mappings_approve_confident
        )

    @admin.action(permissions=["review"], description="Approve the selected mappings, ambiguous ones included")
    def approve_open(self, request: HttpRequest, queryset: QuerySet[DimensionMapping]) -> HttpResponse | None:
        def refusal(mapping: DimensionMapping) -> str:
            return f"already {mapping.status}" if mapping.is_reviewed else ""

        return self._approve_in_bulk(request, queryset, "approve_open", refusal, services.mappings_approve_open)

    def _approve_in_bulk(
        self, request: HttpRequest, queryset: QuerySet[DimensionMapping], action: str, refusal: Any, approve: Any
    ) -> HttpResponse | None:
        """A confirmation page that lists what will be approved and what will not, then the service."""
        mappings = list(queryset.select_related("dataset"))
        if request.POST.get("confirmed") != "yes":
            context = {
                **self.admin_site.each_context(request),
                "title": "Approve these mappings?",
                "opts": self.model._meta,
                "will_approve": [m for m in mappings if not refusal(m)],
                "refused": [(m, why) for m in mappings if (why := refusal(m))],
                "selected": [m.pk for m in mappings],
                "action": action,
                "back": _local_path(request, "back"),
            }
            return TemplateResponse(request, "admin/conversion/approve_confirmation.html", context)
        approved, refused = approve(mappings=mappings, reviewer=request.user)
        for mapping, why in refused:
            self.message_user(request, f"{mapping.legacy_path}: not approved, {why}", messages.WARNING)
        self.message_user(request, f"Approved {len(approved)} mapping(s).", messages.SUCCESS)
        return HttpResponseRedirect(back) if (back := _local_path(request, "back")) else None

    # -- the dataset page ---------------------------------------------------------------------------------------

    def dataset_view(self, request: HttpRequest, dataset_id: int) -> HttpResponse:
        if not self._may_open_page(request):
            raise PermissionDenied
        dataset = get_object_or_404(LegacyDataset.objects.prefetch_related("team"), pk=dataset_id)
        mappings = list(DimensionMapping.objects.filter(dataset=dataset).in_order())
        if request.method != "POST":
            return self._render(request, dataset, mappings, mapping_rows(dataset, mappings))
        rows = mapping_rows(dataset, mappings, request.POST)
        save_form = SaveForm(request.POST)
        if not all(row.form.is_valid() for row in rows if row.form) or not save_form.is_valid():
            return self._render(request, dataset, mappings, rows, save_form=save_form)
        changes = {row.mapping.pk: row.form.target_data() for row in rows if row.form is not None}
        try:
            edited, acted = services.dataset_review_submit(
                dataset=dataset,
                changes=changes,
                editor=request.user,
                reason=save_form.cleaned_data["reason"],
                override_required=save_form.cleaned_data["override_required"],
                act=_pressed(request),
            )
        except services.MappingErrors as error:
            general = _attach_errors(rows, error)
            return self._render(request, dataset, mappings, rows, save_form=save_form, general_errors=general)
        except ValidationError as error:
            general = [" ".join(error.messages)]
            return self._render(request, dataset, mappings, rows, save_form=save_form, general_errors=general)
        if edited or acted is None:
            self.message_user(request, f"Saved {len(edited)} edited mapping(s).", messages.SUCCESS)
        if acted is not None:
            self.message_user(request, f"{acted.legacy_path}: {acted.get_status_display()}.", messages.SUCCESS)
        anchor = f"#mapping-{acted.pk}" if acted is not None else ""
        return HttpResponseRedirect(_dataset_url(dataset.pk) + anchor)

    def preview_view(self, request: HttpRequest, dataset_id: int) -> HttpResponse:
        if not roles.may(request.user, roles.REVIEW):
            raise PermissionDenied  # the preview follows a reviewer's unsaved edits
        dataset = get_object_or_404(LegacyDataset, pk=dataset_id)
        mappings = list(DimensionMapping.objects.filter(dataset=dataset).in_order())
        rows = mapping_rows(dataset, mappings, request.POST if request.method == "POST" else None)
        preview = preview_for(dataset, mappings, rows)
        general = check_rows(rows) if request.method == "POST" else []  # as the curator types, before any save
        context = {
            "preview": preview,
            "general_errors": general,
            "error_rows": error_summary(rows),
            "invalid_fields": invalid_fields(rows),
        }
        return TemplateResponse(request, "admin/conversion/_preview.html", context)

    def _may_open_page(self, request: HttpRequest) -> bool:
        """Whoever reviews, decides, or may only look, sees the dataset page; each action checks its own permission."""
        user = request.user
        return roles.may(user, roles.REVIEW) or roles.may(user, roles.DECIDE) or self.has_view_permission(request)

    def _render(
        self, request: HttpRequest, dataset: LegacyDataset, mappings: list[DimensionMapping], rows: Any, **extra: Any
    ) -> HttpResponse:
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            **page_context(request, dataset, mappings, rows, **extra),
        }
        return TemplateResponse(request, "admin/conversion/dataset_review.html", context)

    # -- one mapping: approve, reject, reopen -------------------------------------------------------------------

    def approve_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        approve = services.mapping_approve
        return self._act(request, pk, "approved", lambda mapping: approve(mapping=mapping, reviewer=request.user))

    def drop_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        reason = self._reason(request)
        drop = services.mapping_drop
        return self._act(
            request, pk, "dropped from the package", lambda m: drop(mapping=m, reviewer=request.user, reason=reason)
        )

    def send_back_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        reason = self._reason(request)
        back = services.mapping_send_back
        return self._act(request, pk, "sent back", lambda m: back(mapping=m, reviewer=request.user, reason=reason))

    def _reason(self, request: HttpRequest) -> str:
        form = ReasonForm(request.POST)
        return form.cleaned_data["reason"] if form.is_valid() else ""

    def reopen_view(self, request: HttpRequest, pk: int) -> HttpResponse:
        form = ReopenForm(request.POST)
        reason = form.cleaned_data["reason"] if form.is_valid() else ""
        return self._act(
            request,
            pk,
            "reopened",
            lambda mapping: services.mapping_reopen(mapping=mapping, admin=request.user, reason=reason),
        )

    def _act(self, request: HttpRequest, pk: int, done: str, action: Any) -> HttpResponse:
        if request.method != "POST":
            return require_POST(lambda r: HttpResponse())(request)
        mapping = get_object_or_404(DimensionMapping.objects.select_related("dataset"), pk=pk)
        try:
            action(mapping)
        except ValidationError as error:
            self.message_user(request, f"{mapping.legacy_path}: {' '.join(error.messages)}", messages.ERROR)
        else:
            self.message_user(request, f"{mapping.legacy_path}: {done}.", messages.SUCCESS)
        return HttpResponseRedirect(_dataset_url(mapping.dataset_id) + f"#mapping-{mapping.pk}")

    # -- the admin decision -------------------------------------------------------------------------------------

    def decide_view(self, request: HttpRequest, dataset_id: int) -> HttpResponse:
        if request.method != "POST":
            return require_POST(lambda r: HttpResponse())(request)
        roles.require(request.user, roles.DECIDE)
        dataset = get_object_or_404(LegacyDataset.objects.prefetch_related("team"), pk=dataset_id)
        form = DecisionForm(request.POST, team=dataset.team_usernames)
        if not form.is_valid():
            mappings = list(DimensionMapping.objects.filter(dataset=dataset).in_order())
            return self._render(request, dataset, mappings, mapping_rows(dataset, mappings), decision_form=form)
        data = form.cleaned_data
        try:
            if data["decision"]:
                services.dataset_decide(
                    dataset=dataset, decision=data["decision"], admin=request.user, reason=data["reason"]
                )
            services.dataset_set_owner(dataset=dataset, owner=data["owner"], admin=request.user, reason=data["reason"])
            if (licence := form.licence_choice()) is not None:
                services.dataset_set_licence(
                    dataset=dataset, licence=licence, admin=request.user, reason=data["reason"]
                )
        except ValidationError as error:
            self.message_user(request, " ".join(error.messages), messages.ERROR)
        else:
            self.message_user(request, "Decision saved.", messages.SUCCESS)
        return HttpResponseRedirect(_dataset_url(dataset.pk) + "#decision")


def _attach_errors(rows: Any, error: services.MappingErrors) -> list[str]:
    """Put the service's errors on the matching forms and fields; return the dataset-wide ones."""
    by_pk = {row.mapping.pk: row for row in rows}
    general = list(error.general)
    for pk, fields in error.per_mapping.items():
        row = by_pk.get(pk)
        for field, messages_ in fields.items():
            for message in messages_:
                if row is None or row.form is None:
                    general.append(f"{row.mapping.legacy_path if row else pk}: {message}")
                else:
                    row.form.add_error(field if field in row.form.fields else None, message)
    return general


def _local_path(request: HttpRequest, name: str) -> str:
    """A path on this site posted back to return to (the dataset page), or "" for anything else."""
    value = str(request.POST.get(name, ""))
    safe = url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}, require_https=False)
    return value if safe and value.startswith("/") and not value.startswith("//") else ""


def _pressed(request: HttpRequest) -> tuple[str, int, str] | None:
    """The card button that submitted the page: its action, the mapping's id and the reason typed on that card."""
    for action in ("approve", "drop", "send_back"):
        value = str(request.POST.get(f"_{action}", ""))
        if value.isdigit():
            return action, int(value), str(request.POST.get(f"card_reason_{value}", ""))
    return None


def _dataset_url(dataset_id: int) -> str:
    return reverse("admin:conversion_dataset_review", args=[dataset_id])


@admin.register(ReviewEvent)
class ReviewEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """The trail: every change with who, when, before, after and why."""

    list_display = ["at", "dataset", "subject", "action", "user", "before", "after", "reason"]
    list_filter = ["action", "user"]
    list_select_related = ["dataset", "user"]
    search_fields = ["dataset__name", "subject", "reason"]
    date_hierarchy = "at"


@admin.register(DatasetDecision)
class DatasetDecisionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):  # type: ignore[type-arg]
    """Decisions are made on the review page (through the service, which leaves a trace), never in a change form."""

    list_display = ["dataset", "decision", "owner", "licence", "decided_by", "decided_at", "review_link"]
    list_filter = ["decision"]
    list_select_related = ["dataset", "decided_by"]
    search_fields = ["dataset__name", "reason", "owner"]
    allow_delete = True

    @admin.display(description="")
    def review_link(self, decision: DatasetDecision) -> SafeString:
        return format_html('<a href="{}#decision">change on the review page</a>', _dataset_url(decision.dataset_id))
