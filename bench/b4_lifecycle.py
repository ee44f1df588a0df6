#!/usr/bin/env python
"""B4 — full 13-step proposal lifecycles per second through the domain layer on PostgreSQL.

    .venv/bin/python bench/b4_lifecycle.py --database-url postgres://postgres@127.0.0.1:5432/bench_b4 \
        --redis-url redis://127.0.0.1:6379/6 --lifecycles 200 --out bench/results/b4.json
    .venv/bin/python bench/b4_lifecycle.py --quick      # 20 lifecycles

One process drives N proposals, one after another, through every step of SPEC §4 with the application's
services (`approvals.services`, each state change through `perform`: row locks, rights of a post in force,
guards, the step's records, the audit chain) exactly as tests/test_lifecycle.py and tests/chain.py do — needs
register, proposal, consent, joint meeting, 3-working-day notice, review by both leaders, start and a
follow-up, acceptance, an invoice signed by three people, settlement, the completion notice and completion.
"Today" moves to each step's date with time-machine (only Python's clock; the database is real).

It works in a subdistrict and communities of its own, created fresh with a unique code on every run, so it
needs no empty database and leaves the others' data alone. With --redis-url, notifications go to Redis as in
production (Celery's broker; nothing consumes them here, and the Redis database is flushed afterwards);
without it Celery runs eagerly in-process, as in development.
"""
import argparse
import datetime
import os
import statistics
import sys
import time
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _b3_common import ROOT, django_setup, ensure_database, log, machine, manage, write_json  # noqa: E402

D = datetime.date
YEAR = 2026
BUDGET, INVOICED = Decimal("30000.00"), Decimal("28000.00")


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/bench_b4")
    parser.add_argument("--redis-url", default=None, help="Celery's broker (flushed after); none: eager Celery")
    parser.add_argument("--lifecycles", type=int, default=200)
    parser.add_argument("--communities", type=int, default=10, help="the lifecycles are spread over these")
    parser.add_argument("--warmup", type=int, default=2, help="lifecycles run first and not counted")
    parser.add_argument("--quick", action="store_true", help="20 lifecycles")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "b4.json"))
    args = parser.parse_args()
    if args.quick:
        args.lifecycles = min(args.lifecycles, 20)
    return args


def travel(day):
    import time_machine

    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, 10, 0,
                                                 tzinfo=datetime.timezone(datetime.timedelta(hours=8))), tick=False)


def build_org(tag, n_communities, per_community):
    """A subdistrict of its own with `n_communities`, a person in every post, and each community's 2026
    allocation large enough for its share of the lifecycles."""
    from django.contrib.auth import get_user_model

    from fundapp.models import Role
    from fundapp.services import ledger as ledger_services
    from fundapp.services import org as org_services

    User = get_user_model()

    def person(username, role, **scope):
        user = User.objects.create_user(username=username, first_name=username)
        org_services.post_create(user=user, role=role, start_date=D(2020, 1, 1), **scope)
        return user

    sd = org_services.subdistrict_create(name=f"基准街道{tag}", code=f"b4{tag}")
    people = {role: person(f"b4{tag}-{role}", role, subdistrict=sd)
              for role in (Role.SUBDISTRICT_SECRETARY, Role.CONSTRUCTION_DIRECTOR, Role.SUBDISTRICT_STAFF,
                           Role.FINANCE_OFFICER)}
    communities = []
    for i in range(n_communities):
        community = org_services.community_create(subdistrict=sd, name=f"基准{tag}-{i}社区", code=f"b4{tag}c{i}")
        local = {role: person(f"b4{tag}c{i}-{role}", role, community=community)
                 for role in (Role.COMMUNITY_SECRETARY, Role.COMMUNITY_STAFF)}
        with travel(D(YEAR, 1, 10)):
            ledger_services.fund_year_allocate(community=community, year=YEAR, amount=BUDGET * (per_community + 1),
                                              entry_date=D(YEAR, 1, 10))
        communities.append((community, {**people, **local}))
    return sd, communities


def lifecycle(community, who, number, timings):
    """One proposal through SPEC §4's 13 steps; adds each service call's seconds to `timings`. `number`
    (unique across runs) names its invoice and payment."""
    from approvals import services as chain
    from approvals.models import Category
    from fundapp.models import Role

    def step(name, fn, **kwargs):
        t = time.perf_counter()
        result = fn(**kwargs)
        timings[name].append(time.perf_counter() - t)
        return result

    secretary, staff = who[Role.COMMUNITY_SECRETARY], who[Role.COMMUNITY_STAFF]
    sd_secretary, director = who[Role.SUBDISTRICT_SECRETARY], who[Role.CONSTRUCTION_DIRECTOR]
    sd_staff, finance = who[Role.SUBDISTRICT_STAFF], who[Role.FINANCE_OFFICER]
    with travel(D(YEAR, 1, 5)):
        # 1. needs collection
        need = step("need_record", chain.need_record, community=community, by=staff, channel="door",
                    description="楼道路灯不亮", resident_name="张三", on=D(YEAR, 1, 5))
        # 2. the proposal
        proposal = step("proposal_create", chain.proposal_create,
                        community=community, by=staff, year=YEAR, title=f"老旧小区路灯维修 {number}",
                        category=Category.PROPERTY, content="更换 40 盏楼道路灯", beneficiaries="broad",
                        beneficiary_count=800, planned_start=D(YEAR, 10, 15), planned_end=D(YEAR, 11, 30),
                        contractor="光明电器维修部", art4_declaration=True, lines=[("路灯及人工", str(BUDGET))],
                        needs=[need])
    with travel(D(YEAR, 9, 28)):
        # 3. preliminary consent (4. the application form is rendered on demand, not a step of its own)
        step("submit_for_consent", chain.proposal_submit_for_consent, proposal=proposal, by=secretary)
        step("consent", chain.consent_decide, proposal=proposal, by=sd_secretary, consented=True, comments="同意上会")
        # 5. joint meeting
        step("meeting_record", chain.meeting_record, proposal=proposal, by=secretary, held_on=D(YEAR, 9, 28),
             place="会议室", attendance=25, votes_for=20, votes_against=3, votes_abstain=2, minutes="通过")
    with travel(D(YEAR, 9, 30)):
        # 6. public notice, 3 working days
        step("notice_post", chain.notice_post, proposal=proposal, by=secretary, posted_on=D(YEAR, 9, 30),
             working_days=3)
    with travel(D(YEAR, 10, 10)):
        # 7. submission for review after the full period
        step("submit_for_review", chain.proposal_submit_for_review, proposal=proposal, by=secretary)
    with travel(D(YEAR, 10, 12)):
        # 8. both leaders approve; the second approval reserves the budget
        step("review_approve", chain.review_decide, proposal=proposal, by=sd_secretary, decision="approve")
        step("approve", chain.review_decide, proposal=proposal, by=director, decision="approve")
    with travel(D(YEAR, 10, 15)):
        # 9. execution with a follow-up
        step("start", chain.proposal_start, proposal=proposal, by=secretary)
        step("follow_up", chain.follow_up_record, proposal=proposal, by=sd_staff, visited_on=D(YEAR, 10, 15),
             notes="已进场")
    with travel(D(YEAR, 11, 2)):
        # 10. acceptance
        step("accept", chain.acceptance_record, proposal=proposal, by=sd_staff, inspected_on=D(YEAR, 11, 2),
             quality="合格", satisfaction_method="入户问卷", asked_count=50, satisfied_count=47, passed=True)
    with travel(D(YEAR, 11, 3)):
        # 11. the invoice, signed by three people in order
        invoice = step("register_invoice", chain.invoice_register, proposal=proposal, by=secretary,
                       contractor="光明电器维修部", number=f"No.{number}", amount=str(INVOICED),
                       issued_on=D(YEAR, 11, 3))
        for signer in (secretary, director, sd_secretary):
            step("sign_invoice", chain.invoice_sign, invoice=invoice, by=signer)
    with travel(D(YEAR, 11, 4)):
        # 12. settlement: the expenditure in the ledger, the rest of the reservation released
        step("settle_invoice", chain.invoice_settle, invoice=invoice, by=finance, paid_on=D(YEAR, 11, 4),
             method="transfer", reference=f"BANK-{number}")
        step("finish_settlement", chain.settlement_finish, proposal=proposal, by=secretary)
    with travel(D(YEAR, 11, 5)):
        # 13. completion notice, 3 working days, then completed
        step("post_completion_notice", chain.completion_notice_post, proposal=proposal, by=secretary,
             posted_on=D(YEAR, 11, 5))
    with travel(D(YEAR, 11, 10)):
        step("complete", chain.proposal_complete, proposal=proposal, by=secretary)
    return proposal


def main():
    args = parse_args()
    env = {**os.environ, "DATABASE_URL": args.database_url, "DJANGO_SETTINGS_MODULE": "fundapp.settings",
           # notifications are not what is measured: no console output of emails
           "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend"}
    if args.redis_url:
        env.update(REDIS_URL=args.redis_url, CACHE_URL=args.redis_url)
    else:
        env.pop("REDIS_URL", None)
        env.pop("CACHE_URL", None)
    ensure_database(args.database_url)
    log("migrate")
    manage(env, "migrate", "--no-input", "-v", "0")
    django_setup(env)

    from django.db import connection

    from approvals.models import Proposal, State
    from audit.services import verify_chain
    from fundapp.models import FundYear

    redis_client = None
    if args.redis_url:
        import redis

        redis_client = redis.Redis.from_url(args.redis_url)
        redis_client.flushdb()

    tag = time.strftime("%m%d%H%M%S", time.gmtime())
    total_runs = args.lifecycles + args.warmup
    per_community = -(-total_runs // args.communities)
    log(f"org: 1 subdistrict, {args.communities} communities (tag {tag})")
    _sd, communities = build_org(tag, args.communities, per_community)

    queries = [0]

    def count(execute, sql, params, many, context):
        queries[0] += 1
        return execute(sql, params, many, context)

    warm = defaultdict(list)
    for i in range(args.warmup):
        community, who = communities[i % len(communities)]
        lifecycle(community, who, f"{tag}-{i}", warm)
    log(f"{args.lifecycles} lifecycles, one process")
    timings, durations, proposals = defaultdict(list), [], []
    with connection.execute_wrapper(count):
        started = time.perf_counter()
        for i in range(args.warmup, total_runs):
            community, who = communities[i % len(communities)]
            t = time.perf_counter()
            proposals.append(lifecycle(community, who, f"{tag}-{i}", timings).pk)
            durations.append(time.perf_counter() - t)
        total_s = time.perf_counter() - started

    # Verify: every proposal completed, the money adds up, the audit chains are intact.
    states = set(Proposal.objects.filter(pk__in=proposals).values_list("state", flat=True))
    problems = [] if states == {State.COMPLETED} else [f"proposal states {sorted(states)}, expected completed"]
    for community, _who in communities:
        fy = FundYear.objects.get(community=community, year=YEAR)
        n = Proposal.objects.filter(community=community, state=State.COMPLETED).count()
        if fy.settled != INVOICED * n or fy.reserved != 0:
            problems.append(f"{community.code}: settled {fy.settled}, reserved {fy.reserved} for {n} projects")
        problems += [str(p) for p in verify_chain(f"community:{community.pk}")]
    if redis_client is not None:
        redis_client.flushdb()
    if problems:
        raise SystemExit("verification failed: " + "; ".join(problems[:10]))

    n = len(durations)
    steps = {name: {"calls_per_lifecycle": len(values) // n, "median_ms": round(statistics.median(values) * 1000, 2),
                    "total_share": round(sum(values) / total_s, 3)}
             for name, values in timings.items()}
    out = {
        "benchmark": "B4",
        "machine": machine(),
        "database": args.database_url.rsplit("/", 1)[-1],
        "celery": "redis" if args.redis_url else "eager",
        "lifecycles": n,
        "communities": args.communities,
        "total_s": round(total_s, 3),
        "lifecycles_per_s": round(n / total_s, 2),
        "lifecycle_median_ms": round(statistics.median(durations) * 1000, 1),
        "lifecycle_p95_ms": round(sorted(durations)[int(0.95 * (n - 1))] * 1000, 1),
        "service_calls_per_lifecycle": sum(s["calls_per_lifecycle"] for s in steps.values()),
        "queries_per_lifecycle": round(queries[0] / n, 1),
        "steps": steps,
        "verified": True,
    }
    out["rows"] = [
        {"benchmark": "B4", "metric": f"13-step lifecycles through the domain layer ({n}, one process)",
         "value": out["lifecycles_per_s"], "unit": "lifecycles/s"},
        {"benchmark": "B4", "metric": "one lifecycle, median", "value": out["lifecycle_median_ms"], "unit": "ms"},
        {"benchmark": "B4", "metric": "SQL queries per lifecycle", "value": out["queries_per_lifecycle"],
         "unit": "queries"},
    ]
    write_json(args.out, out)
    print(f"  {n} lifecycles in {out['total_s']} s: {out['lifecycles_per_s']} lifecycles/s, "
          f"median {out['lifecycle_median_ms']} ms, {out['queries_per_lifecycle']} queries each")
    for name, s in sorted(steps.items(), key=lambda kv: -kv[1]["total_share"]):
        print(f"    {name:24} {s['median_ms']:8.2f} ms  x{s['calls_per_lifecycle']}  {s['total_share']:.1%}")


if __name__ == "__main__":
    main()
