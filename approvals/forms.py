"""Forms parse what people type; the services decide. Amounts stay text here so that
fundapp.amounts.parse_amount gives the same message on every path.

Every text field has a max_length: what is typed is shown on pages and printed on PDFs, so its size bounds
the time a page or a PDF takes to render (tests/test_uploads_and_pdf.py checks every field has one)."""
import uuid

from django import forms
from django.template.defaultfilters import filesizeformat
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from fundapp.errors import DomainError

from .models import Category, Document, Meeting, Need, Objection, Payment, Proposal
from .guards import NOTICE_WORKING_DAYS

DATE = {"widget": forms.DateInput(attrs={"type": "date"}),
        "error_messages": {"invalid": _("请输入有效日期，格式为 年-月-日，例如 2026-09-30。")}}
WHOLE = {"error_messages": {"invalid": _("请输入整数。")}, "min_value": 0}
TEXT = forms.Textarea(attrs={"rows": 3})


class AmountField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", 20)
        kwargs.setdefault("widget", forms.TextInput(attrs={"inputmode": "decimal", "placeholder": "0.00"}))
        super().__init__(**kwargs)


def plausible_pk(value):
    """Digits only and short enough to be a row id (int() of 10,000 digits is an error, not a miss)."""
    text = str(value)
    return text.isascii() and text.isdigit() and len(text) <= 18


class RecordChoiceField(forms.ModelChoiceField):
    """A ModelChoiceField that refuses a value that cannot be a row id before querying: SQLite raises
    OverflowError (not caught by Django, a 500) for an integer beyond 64 bits."""

    def to_python(self, value):
        if value not in self.empty_values and not plausible_pk(value):
            raise forms.ValidationError(self.error_messages["invalid_choice"], code="invalid_choice")
        return super().to_python(value)


class RecordsChoiceField(forms.ModelMultipleChoiceField):
    """The same for several ids."""

    def _check_values(self, value):
        for pk in value:
            if not plausible_pk(pk):
                raise forms.ValidationError(self.error_messages["invalid_pk_value"], code="invalid_pk_value",
                                            params={"pk": pk})
        return super()._check_values(value)


class KeptFileInput(forms.FileInput):
    """A file input that, when a file chosen earlier is kept on the server (approvals.uploads), says so —
    "已上传：name (size)" — and carries its token, with a box to drop it; choosing another file replaces it."""

    kept = None  # the PendingUpload, set by KeepsUploads after cleaning

    def render(self, name, value, attrs=None, renderer=None):
        control = super().render(name, value, attrs, renderer)
        if self.kept is None:
            return control
        return format_html(
            '<p class="kept-upload" role="status">{}<input type="hidden" name="{}" value="{}"> '
            '<label class="inline"><input type="checkbox" name="{}" value="1"> {}</label></p>{}'
            '<p class="help">{}</p>',
            _("已上传：%(name)s（%(size)s）") % {"name": self.kept.original_name,
                                               "size": filesizeformat(self.kept.size)},
            f"{name}-kept", self.kept.token, f"{name}-kept-drop", _("不用此文件"), control,
            _("已上传的文件会随本次提交一并保存；另选文件即替换。"))


class UploadField(forms.FileField):
    """One PDF/JPEG/PNG file (checked by content in approvals.documents); kept across a refused submit by
    the forms that mix in KeepsUploads."""

    widget = KeptFileInput

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault("help_text", _("PDF、JPEG 或 PNG，每个文件不超过 10 MB。"))
        super().__init__(**kwargs)
        self.widget.attrs["accept"] = "application/pdf,image/jpeg,image/png"


class KeepsUploads:
    """A form whose files (its `documents_from` fields) survive a refused submit: a chosen file is checked and
    kept for its uploader (approvals.uploads) and used by the next submit unless another is chosen or the
    person drops it. Needs `owner` (the person submitting); without one it behaves as a plain form."""

    keeps_uploads = True

    def __init__(self, *args, owner=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.kept = {}  # field name -> PendingUpload

    def full_clean(self):
        super().full_clean()
        if self.is_bound and self.owner is not None and getattr(self, "cleaned_data", None) is not None:
            for name in self.documents_from:
                self._keep(name)

    def _keep(self, name):
        from . import uploads
        from .documents import inspect_upload

        key = self.add_prefix(name)
        fresh = self.files.get(key)
        if name in self.errors:
            return
        if fresh:
            try:
                data, mime, _ext = inspect_upload(fresh)
            except DomainError as exc:
                self.add_error(name, str(exc))
                return
            pending = uploads.pending_keep(owner=self.owner, name=fresh.name, data=data, mime=mime)
        elif self.data.get(f"{key}-kept") and not self.data.get(f"{key}-kept-drop"):
            pending = uploads.pending_find(owner=self.owner, token=self.data.get(f"{key}-kept"))
            if pending is None:
                self.add_error(name, _("之前上传的文件已过期，请重新选择。"))
                return
        else:
            return
        self.kept[name] = pending
        self.fields[name].widget.kept = pending
        self.cleaned_data[name] = uploads.as_upload(pending)

    def uploads_used(self):
        """The step was saved with these files: forget them."""
        from . import uploads

        uploads.pending_release(self.kept.values())
        self.kept = {}


class NeedForm(forms.Form):
    # No default: the person says how the need reached them (and what the project is for, below).
    channel = forms.ChoiceField(label=_("收集渠道"), choices=[("", _("请选择"))] + Need.Channel.choices,
                                error_messages={"required": _("请选择收集渠道。")})
    description = forms.CharField(label=_("需求内容"), widget=TEXT, max_length=2000)
    resident_name = forms.CharField(label=_("提出人"), required=False, max_length=50)
    resident_contact = forms.CharField(label=_("联系方式（不公开）"), required=False, max_length=50)


class ProposalForm(forms.Form):
    title = forms.CharField(label=_("项目名称"), max_length=200)
    category = forms.TypedChoiceField(label=_("使用范围"), choices=[("", _("请选择"))] + Category.choices,
                                      coerce=int, empty_value=None,
                                      error_messages={"invalid_choice": _("未知的使用范围，请从列表中选择。"),
                                                      "required": _("请选择使用范围。")})
    content = forms.CharField(label=_("项目内容"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)
    beneficiaries = forms.ChoiceField(label=_("受益群体"), choices=Proposal.Beneficiaries.choices,
                                      widget=forms.RadioSelect)
    beneficiary_count = forms.IntegerField(label=_("受益人数"), min_value=1, **{
        "error_messages": {"invalid": _("受益人数须为整数。")}})
    planned_start = forms.DateField(label=_("计划开始日期"), **DATE)
    planned_end = forms.DateField(label=_("计划完成日期"), **DATE)
    contractor = forms.CharField(label=_("承办方（如已确定）"), required=False, max_length=200)
    needs = RecordsChoiceField(label=_("回应的居民需求"), queryset=Need.objects.none(), required=False,
                               widget=forms.CheckboxSelectMultiple)
    art4_declaration = forms.BooleanField(
        label=_("本项目不用于社区办公开支、社区工作者工资补贴、政府公共服务支出、市委市政府已有资金安排的服务项目或应由物业单位承担的费用（第四条）。"),
        required=False,
    )

    def __init__(self, *args, community, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["needs"].queryset = Need.objects.filter(community=community).order_by("-recorded_at")

    def clean(self):
        data = super().clean()
        start, end = data.get("planned_start"), data.get("planned_end")
        if start and end and end < start:
            self.add_error("planned_end", _("计划完成日期不能早于开始日期。"))
        return data


def yes_no(value):
    return {"1": True, "0": False}.get(value)


class BudgetLineForm(forms.Form):
    item = forms.CharField(label=_("支出项目"), max_length=200)
    amount = AmountField(label=_("金额（元）"))
    # Asked, never assumed: no default, and the form refuses a line without an answer.
    in_procurement_catalogue = forms.TypedChoiceField(
        label=_("属于政府采购目录"), choices=[("1", _("是")), ("0", _("否"))], coerce=yes_no,
        widget=forms.RadioSelect(attrs={"class": "inline-choice"}),
        error_messages={"required": _("请选择是否属于政府采购目录。")})


MAX_LINES = 50


class BaseBudgetLineFormSet(forms.BaseFormSet):
    def add_fields(self, form, index):
        super().add_fields(form, index)
        form.fields["DELETE"].label = _("删除此行")

    def add_line(self):
        """The same lines with one more empty line (the "增加一行" button, without JavaScript)."""
        if not self.is_bound:
            return type(self)(prefix=self.prefix, initial=self.initial)
        data = self.data.copy()
        total = self.total_form_count()
        if total < MAX_LINES:
            data[f"{self.prefix}-TOTAL_FORMS"] = str(total + 1)
        return type(self)(data, prefix=self.prefix)


# At most 50 lines, enforced: without validate_max/absolute_max a post claiming 100,000 lines builds and
# validates 1,050 forms (Django's default absolute_max) before refusing.
BudgetLineFormSet = forms.formset_factory(BudgetLineForm, formset=BaseBudgetLineFormSet, extra=1, min_num=1,
                                          validate_min=True, max_num=MAX_LINES, validate_max=True,
                                          absolute_max=MAX_LINES, can_delete=True)


def procurement_initial(value):
    """A stored answer as the form's choice ("" when the line was recorded before the question was asked)."""
    return "" if value is None else ("1" if value else "0")


class ConfirmForm(forms.Form):
    """An action with nothing to fill in: a button."""


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("理由"), widget=TEXT, max_length=2000)


class CommentsForm(forms.Form):
    comments = forms.CharField(label=_("意见（可选）"), widget=TEXT, required=False, max_length=2000)


class MeetingForm(KeepsUploads, forms.Form):
    held_on = forms.DateField(label=_("会议日期"), **DATE)
    place = forms.CharField(label=_("地点"), max_length=200)
    attendance = forms.IntegerField(label=_("到会人数"), **WHOLE)
    attendees = forms.CharField(label=_("参会人员"), widget=TEXT, required=False, max_length=2000)
    votes_for = forms.IntegerField(label=_("赞成"), **WHOLE)
    votes_against = forms.IntegerField(label=_("反对"), **WHOLE)
    votes_abstain = forms.IntegerField(label=_("弃权"), **WHOLE)
    minutes = forms.CharField(label=_("会议纪要"), widget=forms.Textarea(attrs={"rows": 4}), max_length=4000)
    minutes_file = UploadField(label=_("会议纪要及签到表扫描件"))

    documents_from = {"minutes_file": Document.Kind.MINUTES}


def notice_days_field():
    """A notice's working days, bounded as approvals.guards.NOTICE_WORKING_DAYS says (3 to 60)."""
    days = NOTICE_WORKING_DAYS
    return forms.IntegerField(label=_("公示工作日数"), min_value=days.start, max_value=days.stop - 1,
                              initial=days.start, error_messages={"min_value": _("公示期不得少于3个工作日。"),
                                                                  "invalid": _("请输入整数。")})


class NoticeForm(KeepsUploads, forms.Form):
    posted_on = forms.DateField(label=_("张贴日期"), **DATE)
    working_days = notice_days_field()
    text = forms.CharField(label=_("公示内容"), widget=TEXT, required=False, max_length=4000)
    photo = UploadField(label=_("公示栏照片"))

    documents_from = {"photo": Document.Kind.NOTICE_PHOTO}


class NoticePhotoForm(KeepsUploads, forms.Form):
    """The photo of a posted notice on the board, attached after posting (approvals.services.notice_photo_attach)."""

    photo = UploadField(label=_("公示栏照片"), required=True, help_text=_("JPEG 或 PNG 照片，不超过 10 MB。"),
                        error_messages={"required": _("请选择公示栏照片。")})
    photo.widget.attrs["accept"] = "image/jpeg,image/png"

    documents_from = {"photo": Document.Kind.NOTICE_PHOTO}

    def full_clean(self):
        # A file kept from a refused submit (KeepsUploads) stands in for choosing it again; without one the
        # photo is required.
        key = self.add_prefix("photo")
        self.fields["photo"].required = not (self.is_bound and self.data.get(f"{key}-kept")
                                             and not self.data.get(f"{key}-kept-drop"))
        super().full_clean()
        if self.is_bound and "photo" not in self._errors and not self.cleaned_data.get("photo"):
            self.add_error("photo", _("请选择公示栏照片。"))


class ObjectionForm(forms.Form):
    resident_name = forms.CharField(label=_("姓名"), max_length=50)
    resident_contact = forms.CharField(label=_("联系方式（不公开）"), required=False, max_length=50)
    text = forms.CharField(label=_("异议内容"), widget=TEXT, max_length=4000)


class ObjectionAnswerForm(forms.Form):
    """The secretary's answer to a resident, and the way it reached them: the same form on the objection's
    page (approvals.objection_views) and on the generic action page (ACTIONS["answer_objection"]), both
    answered by approvals.services.objection_answer."""

    channel = forms.ChoiceField(label=_("答复方式"), widget=forms.RadioSelect, choices=Objection.AnswerChannel.choices,
                                error_messages={"required": _("请选择答复方式。"),
                                                "invalid_choice": _("请选择答复方式。")})
    answer = forms.CharField(label=_("答复内容"), widget=TEXT, max_length=4000)


class PublicTextForm(forms.Form):
    """The version of a resident's text the public reads, as the secretary reviewed it
    (approvals.services.resident_text_publish)."""

    text = forms.CharField(label=_("公开版本"), widget=forms.Textarea(attrs={"rows": 5}), max_length=4000,
                           help_text=_("删去姓名、电话、门牌号等不宜公开的内容；发布时系统还会再自动隐去一遍。"),
                           error_messages={"required": _("请填写公开版本：可删去不宜公开的内容，但不能为空。")})


class ReviewForm(forms.Form):
    decision = forms.ChoiceField(label=_("决定"), widget=forms.RadioSelect, choices=[
        ("approve", _("同意")), ("return", _("退回修改")), ("reject", _("不予批准"))])
    reason = forms.CharField(label=_("理由（退回或不予批准时必填）"), widget=TEXT, required=False, max_length=2000)


class ChangeRequestForm(forms.Form):
    description = forms.CharField(label=_("变更内容及原因"), widget=TEXT, max_length=2000)
    new_budget = AmountField(label=_("变更后预算（元，不变则留空）"), required=False)
    new_planned_end = forms.DateField(label=_("变更后完成日期（可选）"), required=False, **DATE)
    new_contractor = forms.CharField(label=_("变更后承办方（可选）"), required=False, max_length=200)


class FollowUpForm(KeepsUploads, forms.Form):
    visited_on = forms.DateField(label=_("跟进日期"), **DATE)
    notes = forms.CharField(label=_("跟进情况"), widget=TEXT, max_length=4000)
    photo = UploadField(label=_("现场照片"))

    documents_from = {"photo": Document.Kind.PHOTO}


class AcceptanceForm(KeepsUploads, forms.Form):
    inspected_on = forms.DateField(label=_("验收日期"), **DATE)
    quality = forms.CharField(label=_("项目质量"), widget=TEXT, max_length=2000)
    satisfaction_method = forms.CharField(label=_("满意度调查方式"), max_length=200)
    asked_count = forms.IntegerField(label=_("调查人数"), **WHOLE)
    satisfied_count = forms.IntegerField(label=_("满意人数"), **WHOLE)
    passed = forms.TypedChoiceField(label=_("验收结论"), widget=forms.RadioSelect, coerce=lambda v: v == "1",
                                    choices=[("1", _("合格")), ("0", _("不合格，整改后复验"))])
    files = UploadField(label=_("验收材料"))

    documents_from = {"files": Document.Kind.ACCEPTANCE}


class InvoiceForm(KeepsUploads, forms.Form):
    contractor = forms.CharField(label=_("开票单位"), max_length=200)
    number = forms.CharField(label=_("发票号码"), max_length=50)
    amount = AmountField(label=_("金额（元）"))
    issued_on = forms.DateField(label=_("开票日期"), **DATE)
    scan = UploadField(label=_("发票扫描件"))

    documents_from = {"scan": Document.Kind.INVOICE}

    @staticmethod
    def initial_for(*, proposal, target=None):
        # The contractor the plan names (as changed by an approved change), where it is known.
        return {"contractor": proposal.contractor} if proposal.contractor else {}


class IdempotentForm(forms.Form):
    # A fresh key on every form shown: a double-click or a retried POST carries the same key and pays once.
    request_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("request_key", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)


class SettleForm(IdempotentForm):
    paid_on = forms.DateField(label=_("支付日期"), **DATE)
    method = forms.ChoiceField(label=_("支付方式"), choices=Payment.Method.choices)
    reference = forms.CharField(label=_("支付凭证号"), max_length=100)


class VoucherForm(KeepsUploads, IdempotentForm):
    meeting = RecordChoiceField(label=_("事前集体讨论决定"), queryset=Meeting.objects.none(),
                                empty_label=_("请选择会议"))
    recipient_name = forms.CharField(label=_("收款人"), max_length=50)
    receipt_reference = forms.CharField(label=_("收款人签字凭证编号"), max_length=200)
    amount = AmountField(label=_("金额（元）"))
    paid_on = forms.DateField(label=_("支付日期"), **DATE)
    method = forms.ChoiceField(label=_("支付方式"), choices=Payment.Method.choices)
    reference = forms.CharField(label=_("支付凭证号"), max_length=100)
    receipt = UploadField(label=_("收款人签字凭证扫描件"))

    documents_from = {"receipt": Document.Kind.RECEIPT}

    takes_proposal = True

    def __init__(self, *args, proposal, **kwargs):
        super().__init__(*args, **kwargs)
        meetings = proposal.meetings.filter(passed=True)
        self.fields["meeting"].queryset = meetings
        if not self.is_bound and len(passed := list(meetings[:2])) == 1:
            self.initial.setdefault("meeting", passed[0].pk)  # the one decision there is


class CompletionNoticeForm(forms.Form):
    posted_on = forms.DateField(label=_("张贴日期"), **DATE)
    working_days = notice_days_field()
    text = forms.CharField(label=_("公示内容"), widget=TEXT, required=False, max_length=4000)


class OpinionForm(forms.Form):
    text = forms.CharField(label=_("监督意见"), widget=TEXT, max_length=4000)


class ReportSubmitForm(forms.Form):
    narrative = forms.CharField(label=_("年度经费使用情况和服务效果"), widget=forms.Textarea(attrs={"rows": 8}),
                                max_length=10000)


class ReportEvaluateForm(forms.Form):
    from .models import AnnualReport

    grade = forms.ChoiceField(label=_("考核评议结果"), choices=AnnualReport.Grade.choices, widget=forms.RadioSelect)
    comments = forms.CharField(label=_("评议意见"), widget=TEXT, max_length=2000)


def action_form(form_class, data=None, files=None, *, proposal, target=None, owner=None):
    """The form of a step on a proposal page, given what it needs: the proposal (a voucher's meetings), the
    person (to keep their files across a refused submit) and what is already known (the contractor)."""
    kwargs = {}
    if getattr(form_class, "takes_proposal", False):
        kwargs["proposal"] = proposal
    if getattr(form_class, "keeps_uploads", False):
        kwargs["owner"] = owner
    initial_for = getattr(form_class, "initial_for", None)
    if initial_for is not None and data is None:
        kwargs["initial"] = initial_for(proposal=proposal, target=target)
    return form_class(data, files, **kwargs)
