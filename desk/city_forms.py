"""Forms of the city administrator's pages: the year's allocation and a post handed over."""
from django import forms
from django.contrib.auth import get_user_model
from django.utils.translation import gettext_lazy as _

from fundapp import clock

DATE_ERRORS = {"invalid": _("请输入有效日期，格式为 年-月-日，例如 2026-09-30。")}
MAX_UPLOAD = 5 * 1024 * 1024


class AllocationForm(forms.Form):
    """A year, a date, and one amount for every community or a table of amounts (the service judges them)."""

    year = forms.IntegerField(label=_("年度"), error_messages={"invalid": _("请输入年度，例如 2026。"),
                                                              "required": _("请输入年度，例如 2026。")})
    entry_date = forms.DateField(label=_("记账日期"), widget=forms.DateInput(attrs={"type": "date"}),
                                 error_messages=DATE_ERRORS,
                                 help_text=_("拨款记在所选年度内，不能晚于今天。"))
    amount = forms.CharField(label=_("每个社区的金额（元）"), max_length=30, required=False,
                             help_text=_("第五条：各社区每年金额相同。上传金额表时此项留空。"))
    sheet = forms.FileField(label=_("或上传金额表（.xlsx）"), required=False,
                            help_text=_("按模板填写：社区代码、社区名称、金额。"))
    key = forms.CharField(required=False, widget=forms.HiddenInput)  # the previewed plan's

    def __init__(self, *args, **kwargs):
        today = clock.today()
        kwargs.setdefault("initial", {}).update({"year": today.year, "entry_date": today})
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        amount, sheet = (data.get("amount") or "").strip(), data.get("sheet")
        if not amount and not sheet and not data.get("key"):
            raise forms.ValidationError(_("请填写每个社区的金额，或上传金额表。"))
        if amount and sheet:
            raise forms.ValidationError(_("金额与金额表只能选一种。"))
        if sheet and sheet.size > MAX_UPLOAD:
            self.add_error("sheet", _("文件过大（上限 5 MB）。"))
        data["amount"] = amount
        return data


class HandOverForm(forms.Form):
    successor = forms.CharField(label=_("接任人（用户名）"), max_length=150,
                                help_text=_("接任人须已有账号；新人请先建立账号（由运维人员办理）。"))
    on = forms.DateField(label=_("交接日期"), widget=forms.DateInput(attrs={"type": "date"}), error_messages=DATE_ERRORS,
                         help_text=_("接任人自该日起任职；现任者任职至前一日。"))
    acting = forms.BooleanField(label=_("代理（代）"), required=False)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("on", clock.today())
        super().__init__(*args, **kwargs)

    def clean_successor(self):
        username = self.cleaned_data["successor"].strip()
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise forms.ValidationError(_("没有用户名为“%(name)s”的账号。") % {"name": username})
        return user
