"""What a notice says, as plain data: the same facts the printed notice shows (approvals.pdf), masked as
everything posted for the public is, so the public page can show the notice's full text beside the link to
its archived PDF.

Taken once, when the notice is posted, and stored with the archived paper (`NoticePaper.content`), so the
page shows what was posted even if the record is later corrected. Built in the site's language.
"""
from decimal import Decimal

from django.utils.dateformat import format as format_date
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from fundapp.amounts import amount_in_words, format_yuan
from fundapp.privacy import mask_name
from .models import Notice
from .publishing import party, publisher_for


def long_date(value):
    """2026年12月2日 — as the papers' `long_date` filter writes it."""
    return format_date(value, pgettext("date format", "Y年n月j日")) if value else ""


def private_names(p):
    """The private persons a project's records name: recipients paid without an invoice, residents whose
    needs it answers, objectors to its notices. (Reads what approvals.pdf.load prefetched.)"""
    names = {pay.recipient_name for pay in p.payments.all()}
    names |= {need.resident_name for need in p.needs.all()}
    names |= {o.resident_name for n in p.notices.all() for o in n.objections.all()}
    return sorted((name.strip() for name in names if name and name.strip()), key=len, reverse=True)


def publisher_of(p):
    """The publishing step (fundapp.privacy.Publisher) for the project's public texts: the names its community's
    records know (approvals.publishing.known_names) and its own private persons; made once per loaded project."""
    if getattr(p, "_publisher", None) is None:
        p._publisher = publisher_for(p.community, private_names(p))
    return p._publisher


def public_text(p, text):
    """Any text for a notice, as it may be posted: private persons' names masked (赵六一 → 赵**), phone, ID
    and bank-card numbers and flats removed (the one publishing step)."""
    return publisher_of(p).text(text)


def needs_text(p):
    """The residents' needs the project answers, as the public reads them (the secretary's reviewed version,
    else the automatically redacted one)."""
    return "；".join(n.published(publisher_of(p)) for n in p.needs.all()) or "—"


def _last(items, test=lambda item: True):
    return next((item for item in reversed(list(items)) if test(item)), None)


def _meeting_text(meeting, publisher):
    if meeting is None:
        return "—"
    return _("%(date)s 于%(place)s召开联席会议研究决定，到会 %(n)s 人；赞成 %(f)s 票，反对 %(a)s 票，弃权 %(s)s 票。") % {
        "date": long_date(meeting.held_on), "place": publisher.text(meeting.place), "n": meeting.attendance,
        "f": meeting.votes_for, "a": meeting.votes_against, "s": meeting.votes_abstain}


def _plan(p, notice):
    meeting = _last(p.meetings.all(), lambda m: m.passed)
    needs = needs_text(p)
    lines = [[public_text(p, line.item), format_yuan(line.amount)] for line in p.lines.all()]
    return {
        "intro": _("根据《社区党组织服务群众专项经费管理使用细则》第十条的规定，经街道党工委初步同意、联席会议讨论通过，"
                   "%(name)s拟使用服务群众专项经费实施以下项目，现予公示，接受居民群众监督。") % {"name": p.community.name},
        "sections": [
            {"heading": "", "rows": [
                [_("项目名称"), public_text(p, p.title)], [_("项目内容"), public_text(p, p.content)],
                [_("回应的居民需求"), needs],
                [_("使用范围"), str(p.get_category_display())],
                [_("受益群体"), f"{p.get_beneficiaries_display()}（{p.beneficiary_count}）"],
                [_("实施地点"), p.community.name], [_("承办方"), party(publisher_of(p), p.contractor) or "—"],
                [_("计划时间"), f"{long_date(p.planned_start)} — {long_date(p.planned_end)}"],
            ]},
            {"heading": _("预算明细"), "rows": lines + [[_("预算合计"), format_yuan(p.budget)],
                                                   [_("大写"), amount_in_words(p.budget)]]},
            {"heading": _("联席会议决定"), "rows": [[_("集体决定"), _meeting_text(meeting, publisher_of(p))]]},
        ],
    }


def _voucher(p, notice):
    payment = next((pay for pay in p.payments.all() if pay.after_notice_id == notice.pk), None)
    if payment is None:
        return {"intro": "", "sections": []}
    return {
        "intro": _("根据《社区党组织服务群众专项经费管理使用细则》第十三条的规定，以下支出无法取得发票，经集体研究决定并由收款人签字确认后支付，"
                   "现予事后公示，接受居民群众监督。"),
        "sections": [{"heading": "", "rows": [
            [_("所属项目"), public_text(p, p.title)], [_("支出用途"), public_text(p, p.content)],
            [_("收款人"), mask_name(payment.recipient_name)],
            [_("支付日期"), long_date(payment.paid_on)],
            [_("支付金额"), f"{format_yuan(payment.amount)}（{amount_in_words(payment.amount)}）"],
            [_("支付方式"), str(payment.get_method_display())], [_("凭证号"), public_text(p, payment.reference)],
            [_("集体决定"), _meeting_text(payment.meeting, publisher_of(p))],
        ]}],
    }


def _completion(p, notice):
    from .pdf import payee, satisfaction_rate

    payments = list(p.payments.all())
    total = sum((pay.amount for pay in payments), Decimal("0.00"))
    acceptance = _last(p.acceptances.all())
    if acceptance is None:
        result = _("（尚未验收）")
    else:
        rate = satisfaction_rate(acceptance)
        result = _("%(date)s，街道党工委组织综合验收；满意度调查方式：%(method)s，调查 %(a)s 人，满意 %(s)s 人") % {
            "date": long_date(acceptance.inspected_on), "method": public_text(p, acceptance.satisfaction_method),
            "a": acceptance.asked_count, "s": acceptance.satisfied_count}
        if rate is not None:
            result += _("（满意率 %(r)s%%）") % {"r": rate}
        result += "。" + (_("验收结论：合格。") if acceptance.passed else _("验收结论：不合格。"))
    rows = [[f"{long_date(pay.paid_on)} · {payee(pay, publisher_of(p))}",
             f"{format_yuan(pay.amount)}（{public_text(p, pay.invoice.number if pay.invoice_id else pay.reference)}）"]
            for pay in payments]
    return {
        "intro": _("根据《社区党组织服务群众专项经费管理使用细则》第十五条的规定，现将%(name)s使用服务群众专项经费实施的以下项目的"
                   "完成情况、经费支出和验收结果予以公示，接受居民群众监督。") % {"name": p.community.name},
        "sections": [
            {"heading": "", "rows": [
                [_("项目名称"), public_text(p, p.title)], [_("完成内容"), public_text(p, p.content + (f"\n{acceptance.quality}" if acceptance else ""))],
                [_("使用范围"), str(p.get_category_display())],
                [_("受益群体"), f"{p.get_beneficiaries_display()}（{p.beneficiary_count}）"],
                [_("批准预算"), format_yuan(p.approved_budget)],
            ]},
            {"heading": _("经费支出"), "rows": rows + [[_("结算合计"), format_yuan(total)],
                                                  [_("大写"), amount_in_words(total)]]},
            {"heading": _("验收结果"), "rows": [[_("验收结论"), result]]},
        ],
    }


BUILDERS = {Notice.Kind.PLAN: _plan, Notice.Kind.VOUCHER: _voucher, Notice.Kind.COMPLETION: _completion}


def notice_content(p, notice):
    """The notice's text as plain JSON data: title, intro, sections of [label, value] rows, the period, the
    ways to object and the issuer. `p` is the proposal loaded as approvals.pdf loads it."""
    community = p.community
    body = BUILDERS[notice.kind](p, notice)
    return {
        "kind": notice.kind,
        "title": str(notice.get_kind_display()),
        "project": public_text(p, p.title),
        **body,
        "remark": public_text(p, notice.text),
        "period": _("本公示自 %(start)s 起张贴，公示 %(n)s 个工作日，至 %(end)s 止。") % {
            "start": long_date(notice.posted_on), "n": notice.working_days, "end": long_date(notice.last_day)},
        "phone": community.phone, "address": community.address,
        "issuer": _("中共%(name)s委员会") % {"name": community.name},
        "posted_on": notice.posted_on.isoformat(),
    }
