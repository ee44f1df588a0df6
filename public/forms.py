"""Residents' forms: no login, so they carry their own defences — a hidden field people never fill in,
a signed timestamp (a form posted within seconds of being shown is a robot's), a link limit, and a rate
limit per address and notice in the views."""
import re
import time

from django import forms
from django.core import signing
from django.utils.translation import gettext_lazy as _

from approvals.models import Need

MIN_SECONDS = 3
MAX_AGE = 2 * 60 * 60
_LINK = re.compile(r"https?://|www\.", re.I)


class ResidentForm(forms.Form):
    website = forms.CharField(required=False, max_length=200, widget=forms.TextInput(attrs={
        "tabindex": "-1", "autocomplete": "off"}))
    shown = forms.CharField(widget=forms.HiddenInput, max_length=200)

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {})["shown"] = signing.dumps(time.time(), salt="public-form")
        super().__init__(*args, **kwargs)

    def clean(self):
        data = super().clean()
        if data.get("website"):
            raise forms.ValidationError(_("提交未通过检查，请稍后再试。"), code="spam")
        try:
            shown = signing.loads(data.get("shown", ""), salt="public-form", max_age=MAX_AGE)
        except signing.BadSignature:
            raise forms.ValidationError(_("页面已过期，请刷新后重新填写。"), code="expired") from None
        if isinstance(shown, bool) or not isinstance(shown, (int, float)):  # signed, but not our stamp
            raise forms.ValidationError(_("页面已过期，请刷新后重新填写。"), code="expired")
        if time.time() - shown < MIN_SECONDS:
            raise forms.ValidationError(_("提交太快了，请检查内容后再提交。"), code="spam")
        text = " ".join(str(v) for v in data.values() if isinstance(v, str))
        if len(_LINK.findall(text)) > 1:
            raise forms.ValidationError(_("内容中不能包含多个网址。"), code="spam")
        return data


class ObjectionForm(ResidentForm):
    resident_name = forms.CharField(label=_("姓名"), max_length=50,
                                    help_text=_("公开显示时只显示姓氏，如“张**”。"))
    resident_contact = forms.CharField(label=_("联系电话（不公开，便于社区答复）"), max_length=50, required=False)
    text = forms.CharField(label=_("异议内容"), widget=forms.Textarea(attrs={"rows": 5}), max_length=2000)


class NeedForm(ResidentForm):
    description = forms.CharField(label=_("您希望社区提供的服务"), widget=forms.Textarea(attrs={"rows": 5}),
                                  max_length=2000)
    resident_name = forms.CharField(label=_("姓名（可不填）"), max_length=50, required=False)
    resident_contact = forms.CharField(label=_("联系电话（可不填，不公开）"), max_length=50, required=False)

    channel = Need.Channel.ONLINE


class FeedbackForm(ResidentForm):
    satisfied = forms.TypedChoiceField(label=_("您对这个项目满意吗？"), widget=forms.RadioSelect,
                                       coerce=lambda v: v == "1", choices=[("1", _("满意")), ("0", _("不满意"))])
    comment = forms.CharField(label=_("意见或建议（可不填）"), widget=forms.Textarea(attrs={"rows": 3}),
                              max_length=1000, required=False)
