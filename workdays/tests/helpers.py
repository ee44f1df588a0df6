"""Proposals with calendar-derived dates for the calendar tests, walked through the real services."""
import datetime

from approvals import services as chain
from audit.models import AuditRecord
from fundapp.models import FundYear, Role
from tests.chain import allocate, draft, meeting_passed, travel

D = datetime.date

# A notice for 2027 in the State Council's style (invented for the test: the real one was not yet published
# when this was written). Its New Year holiday runs one day longer than the statutory fallback's and a
# Saturday is a make-up working day, so a deadline counted over early January moves.
NOTICE_2027 = """国务院办公厅关于2027年部分节假日安排的通知
国办发明电〔2026〕99号

各省、自治区、直辖市人民政府，国务院各部委、各直属机构：
经国务院批准，现将2027年元旦、春节、清明节、劳动节、端午节、中秋节和国庆节放假调休日期的具体安排通知如下。
一、元旦：1月1日（周五）至4日（周一）放假调休，共4天。1月9日（周六）上班。
二、春节：2月5日（农历除夕、周五）至12日（农历正月初七、周五）放假调休，共8天。2月20日（周六）上班。
三、清明节：4月3日（周六）至5日（周一）放假，共3天。
四、劳动节：5月1日（周六）至5日（周三）放假调休，共5天。4月25日（周日）、5月8日（周六）上班。
五、端午节：6月9日（周三）放假，共1天。
六、中秋节：9月15日（周三）放假，共1天。
七、国庆节：10月1日（周五）至7日（周四）放假调休，共7天。9月26日（周日）、10月9日（周六）上班。
节假日期间，各地区、各部门要妥善安排好值班和安全、保卫等工作，确保人民群众祥和平安度过节日假期。

国务院办公厅
2026年11月10日
"""


def records(action):
    return AuditRecord.objects.filter(action=action).order_by("seq")


def secretary(org, code="a1"):
    return org.person(Role.COMMUNITY_SECRETARY, code)


def funded_draft(org, code, **kwargs):
    if not FundYear.objects.filter(community=org.community(code), year=2026).exists():
        with travel(D(2026, 1, 10)):
            allocate(org, code)
    return draft(org, code, **kwargs)


def running_notice(org, code="a1", posted=D(2026, 12, 22), title="楼道照明改造"):
    """A plan notice posted on Tue 22 Dec 2026 for 3 working days: last day Thu 24 Dec."""
    proposal = funded_draft(org, code, title=title)
    meeting_passed(org, proposal, code, day=D(2026, 12, 21))
    with travel(posted):
        chain.notice_post(proposal=proposal, by=secretary(org, code), posted_on=posted, working_days=3)
    return proposal


def review_from_new_years_eve(org, code="a2"):
    """A review received on 31 Dec 2026: its 5 working days run into 2027, which nothing confirms yet."""
    proposal = running_notice(org, code, title="老年活动室改造")
    with travel(D(2026, 12, 31)):
        chain.proposal_submit_for_review(proposal=proposal, by=secretary(org, code))
    proposal.refresh_from_db()
    return proposal
