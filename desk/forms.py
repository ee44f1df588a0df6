"""Forms of the staff pages that are not the approval chain's (those are approvals/forms.py)."""
from django import forms
from django.utils.translation import gettext_lazy as _

from fundapp import clock


class ReversalForm(forms.Form):
    """A reversing entry: why, and the day it is booked (the service checks the day against the ledger)."""

    entry_date = forms.DateField(label=_("冲销日期"), widget=forms.DateInput(attrs={"type": "date"}),
                                 error_messages={"invalid": _("请输入有效日期，格式为 年-月-日，例如 2026-09-30。")})
    reason = forms.CharField(label=_("冲销理由"), widget=forms.Textarea(attrs={"rows": 3}), max_length=100,
                             error_messages={"required": _("请填写冲销理由。")})

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("entry_date", clock.today())
        super().__init__(*args, **kwargs)
