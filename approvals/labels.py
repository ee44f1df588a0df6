from django.utils.translation import gettext_lazy as _

# Audit actions that are not transitions of the chain, as the timeline shows them.
OTHER_ACTIONS = {
    "proposal.create": _("起草项目"),
    "proposal.update": _("修改方案"),
    "objection.record": _("登记异议"),
    "objection.answer": _("答复异议"),
    "supervision.opinion": _("监督意见"),
    "need.record": _("登记需求"),
    "review.escalated": _("审批超期，已上报"),
    "feedback.record": _("居民满意度反馈"),
    "annual_report.draft": _("起草年度报告"),
    "annual_report.submit": _("报送年度报告"),
    "annual_report.evaluate": _("评议年度报告"),
    "fund.allocate": _("下达年度经费"),
    "fund.close_year": _("年度结转"),
    "ledger.reverse": _("冲销分录"),
    "post.create": _("任命职务"),
    "post.change": _("变更任职"),
    "community.create": _("设立社区"),
    "subdistrict.create": _("设立街道"),
    "calendar.change": _("调整工作日日历"),
    "notice.recalculated": _("公示期随工作日日历调整重新计算"),
    "notice.paper_archived": _("公示张贴件存档"),
    "disclosure.poster_archived": _("年终公示海报存档"),
    "proposal.deadline_recalculated": _("审批期限随工作日日历调整重新计算"),
    "disclosure.recalculated": _("年终公示期随工作日日历调整重新计算"),
}
