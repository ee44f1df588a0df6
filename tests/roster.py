"""Generated roster workbooks for the onboarding tests: a city of any size, in the template's layout."""
import datetime
import io

import openpyxl

from fundapp.services.onboarding import COMMUNITIES, PEOPLE, SUBDISTRICTS

START = datetime.date(2026, 1, 1)
COMMUNITY_ROLES = ("社区党委书记", "社区工作者", "社区议事监督委员会成员")
SUBDISTRICT_ROLES = ("社区党工委书记", "社区建设管理委员会主任", "党工委工作人员", "党工委财务管理人员")


def city(subdistricts=2, communities=4, posts=None):
    """{kind: [row dicts]} for a city: `subdistricts` subdistricts, `communities` communities spread over
    them, and `posts` posts (default: one per subdistrict role and per community role), one person each."""
    sds = [{"code": f"sd{i}", "name": f"第{i}街道", "party_committee_name": "", "construction_committee_name": ""}
           for i in range(1, subdistricts + 1)]
    cms = [{"subdistrict": sds[i % subdistricts]["code"], "code": f"c{i}", "name": f"第{i}社区",
            "phone": f"0571-{88000000 + i}", "address": f"幸福路{i}号"} for i in range(1, communities + 1)]
    slots = [(role, "", sd["code"]) for sd in sds for role in SUBDISTRICT_ROLES]
    slots += [(role, cm["code"], "") for cm in cms for role in COMMUNITY_ROLES]
    if posts is None:
        posts = len(slots)
    people = []
    for n in range(posts):
        role, community, subdistrict = slots[n % len(slots)]
        people.append({"username": f"p{n}", "full_name": f"人员{n}", "email": f"p{n}@example.org", "role": role,
                       "community": community, "subdistrict": subdistrict, "start_date": START, "end_date": None,
                       "acting": ""})
    return {"subdistricts": sds, "communities": cms, "people": people}


def workbook(data, *, headers=None):
    """The rows as .xlsx bytes, with each sheet's header row (`headers` overrides a sheet's headers)."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for spec in (SUBDISTRICTS, COMMUNITIES, PEOPLE):
        if spec.kind not in data:
            continue
        ws = book.create_sheet(spec.title)
        ws.append((headers or {}).get(spec.kind) or [c.header for c in spec.columns])
        for row in data[spec.kind]:
            ws.append([row.get(c.key) for c in spec.columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def fill(template, data):
    """The downloaded template (bytes) with the rows added under its example rows, as a clerk fills it in."""
    book = openpyxl.load_workbook(io.BytesIO(template))
    for spec in (SUBDISTRICTS, COMMUNITIES, PEOPLE):
        ws = book[spec.title]
        for row in data.get(spec.kind, []):
            ws.append([row.get(c.key) for c in spec.columns])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
