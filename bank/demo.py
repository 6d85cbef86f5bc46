"""A demo community shaped like Longhai, built deterministically from a seed and an end date.

Six compounds, 50+ buildings, 1,000+ accounts with synthetic Chinese names, cards (some reissued
after loss), 13 volunteer teams, 70 merchants with offers that fit each shop, the review groups
and the devices (a kiosk per service point, a tablet per merchant), and two years of history from
the scheme's start on 1 December, as the report describes it two years in: the 2024 paper ledger
carried over in the first month and spent through 2025 (little is left to expire on 1 January),
20,000+ points awarded, every merchant redeeming every month, a few reversals, and the rare
negative balance, always from a deduction. Everything goes through the bank's own calls, so the
caps, balances, recusal and second member hold as for a user. Nothing here is random between
runs: the issuing key, PIN salts, device keys and enrolment codes derive from the seed too.

This is the office side of the demo (``python -m office demo``); the devices, card videos and
screenshots are in the top-level ``demo`` package, which the product never imports.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import (accounts, audit, cards, clock, community, convention, db, devices, keystore, ledger, merchants, money,
               periods, policy, postings, quarterly_check, recorders, reviewers, settings, teams, validity)
from .errors import BankError, DatabaseError

COMPOUNDS = [  # name, buildings, service point
    ("龙海花园", 9, "龙海花园党群服务点"), ("金色港湾", 8, "金色港湾党群服务点"),
    ("滨江丽景", 10, "滨江丽景党群服务点"), ("龙湖苑", 9, "龙湖苑党群服务点"),
    ("康居小区", 8, "康居小区党群服务点"), ("怡景新城", 10, "怡景新城党群服务点"),
]

VOLUNTEER_TEAMS = [
    ("和事佬调解队", "调解邻里和家庭纠纷"), ("安心敲门队", "每天敲门看望独居老人"),
    ("环境保护志愿队", "清理楼道、整治环境"), ("普法宣传队", "普及法律知识"),
    ("文明劝导队", "劝导不文明行为"), ("助老服务队", "为老人代购、陪诊"),
    ("义务理发队", "为困难群众免费理发"), ("平安巡逻队", "夜间巡逻守护平安"),
    ("青少年关爱队", "关爱留守和困境儿童"), ("文艺宣传队", "排演节目、宣传公约"),
    ("垃圾分类督导队", "指导垃圾分类投放"), ("应急救援队", "防汛、消防应急"),
    ("党员先锋队", "党员带头服务群众"),
]

SURNAMES = ("王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
            "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃"
            "武戴莫孔向汤")
GIVEN = ("伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕彬斌宇浩凯健俊帆帅旭宁"
         "龙林欣婷雪梅琳晨辰阳佳怡欣然子涵浩然梓轩雨泽思远国庆建华志强春花秋菊德明文博鑫磊慧敏")
RARE = "喆堃玥珺旻昇翀彧"

# category, count, shop names, the category's offers (name, points, value in yuan); a shop whose
# trade differs from its category's (a 酸辣粉 shop among the noodle bars) has its own in SHOP_OFFERS.
MERCHANT_PLAN = [
    ("bank", 1, ["重庆农商行龙海支行"], [("环保购物袋", 3, 5), ("毛巾礼盒", 20, 25), ("存钱罐", 6, 8)]),
    ("redemption_point", 1, ["龙海社区积分兑换点"], [("洗衣液", 12, 15), ("大米5斤", 25, 30), ("食用油", 30, 35), ("纸巾一提", 10, 12)]),
    ("pharmacy", 5, ["康健大药房", "桐君阁药房", "和平药房", "益丰药房", "民生药房"],
     [("量血压测血糖", 2, 5), ("口罩一盒", 8, 10), ("医用棉签", 3, 4)]),
    ("gym", 2, ["动力健身房", "悦跑健身"], [("单次健身", 15, 30), ("瑜伽体验课", 20, 40), ("体质测试", 8, 15)]),
    ("noodles", 12, ["老街小面", "重庆小面王", "龙海面庄", "张记豌杂面", "幺妹牛肉面", "江湖小面", "渝味面馆",
                     "胖哥酸辣粉", "老巷子面馆", "滨江小面", "刘记小面", "山城面馆"],
     [("小面", 6, 7), ("豌杂面", 8, 10), ("牛肉面", 12, 15)]),
    ("massage", 3, ["康乐推拿", "舒心足疗", "颐和按摩"], [("肩颈推拿", 25, 48), ("足疗", 30, 58), ("头部按摩", 10, 20)]),
    ("snacks", 11, ["包子铺", "王婆抄手", "周记汤圆", "老味道馒头", "甜心小吃", "阿婆凉糕", "渝香烧饼",
                    "龙海早点", "四季豆花", "蛋烘糕小铺", "麻花铺"],
     [("馒头", 1, 1), ("肉包子", 2, 2), ("豆浆", 1, 2)]),
    ("hairdresser", 8, ["新潮美发", "剪艺工作室", "丝域造型", "老王理发", "美丽人生发型", "名剪", "发艺坊", "靓点美发"],
     [("洗剪吹", 15, 25), ("老人理发", 8, 12), ("洗头", 5, 8)]),
    ("training", 4, ["启航书法培训", "小星星舞蹈", "智慧珠心算", "乐学美术"], [("体验课一节", 20, 60)]),
    ("supermarket", 8, ["永辉便利店", "龙海超市", "惠民生鲜", "百家乐超市", "佳佳便利", "新一佳超市", "邻里便利店", "好又多"],
     [("鸡蛋10个", 8, 10), ("酱油一瓶", 6, 8), ("牙膏", 7, 9)]),
    ("bakery", 5, ["面包新语", "麦香坊", "好利来", "甜蜜蜜烘焙", "早安面包"], [("吐司面包", 8, 10), ("蛋糕切块", 10, 12)]),
    ("clinic", 2, ["龙海社区诊所", "仁心中医诊所"], [("中医理疗一次", 20, 40), ("健康体检套餐", 50, 80), ("测血糖", 3, 5)]),
    ("laundry", 4, ["洁净洗衣", "衣之家干洗", "快洗坊", "白云洗衣"], [("干洗一件", 12, 15), ("洗鞋一双", 10, 15)]),
    ("tea", 4, ["老茶馆", "品茗轩", "江边茶楼", "悠然茶社"], [("盖碗茶", 5, 8), ("茶叶一两", 15, 20)]),
]
SHOP_OFFERS = {
    "胖哥酸辣粉": [("酸辣粉", 6, 8), ("肥肠粉", 10, 12)],
    "王婆抄手": [("抄手一碗", 8, 10), ("红油抄手", 10, 12)],
    "周记汤圆": [("汤圆一碗", 6, 8), ("醪糟汤圆", 8, 10)],
    "老味道馒头": [("馒头", 1, 1), ("花卷", 1, 1), ("红糖馒头", 2, 2)],
    "甜心小吃": [("凉粉", 5, 6), ("冰粉", 4, 5)],
    "阿婆凉糕": [("凉糕", 3, 4), ("冰粉", 4, 5)],
    "渝香烧饼": [("烧饼", 2, 3), ("葱油饼", 3, 4)],
    "四季豆花": [("豆花饭", 8, 10), ("豆浆", 1, 2)],
    "蛋烘糕小铺": [("蛋烘糕", 3, 4), ("奶油蛋烘糕", 4, 5)],
    "麻花铺": [("麻花一袋", 8, 10), ("小麻花", 3, 4)],
    "启航书法培训": [("体验课一节", 20, 60), ("书法字帖", 10, 15)],
    "小星星舞蹈": [("体验课一节", 20, 60), ("舞蹈公开课", 10, 30)],
    "智慧珠心算": [("体验课一节", 20, 60), ("珠心算练习册", 8, 12)],
    "乐学美术": [("体验课一节", 20, 60), ("画笔套装", 10, 15)],
}

AWARD_WEIGHTS = {  # item code: relative frequency of being recorded for an account
    "XS01": 30, "XS02": 8, "XS03": 2, "RJ01": 14, "RJ02": 9, "RJ03": 12, "ML01": 2, "ML02": 12,
    "ML03": 2, "ML04": 5, "ML05": 2, "YC01": 2, "YC02": 1, "YC03": 0.1, "YC04": 2, "YC05": 2,
}
DEDUCTION_WEIGHTS = {"XS04": 10, "XS05": 1, "XS06": 1, "XS07": 3, "RJ04": 1, "RJ05": 0.3, "RJ06": 4,
                     "ML06": 2, "YC06": 0.2}
TARGET_AWARDED = 22_000      # the report: 累计获得积分超过20000分, two years in
DEDUCTIONS = 420             # over the two years; most breaches are by residents who also take part
REDEMPTIONS_EXTRA = 500      # beyond one redemption at every merchant every month
LOST_CARDS = 40

# The report's figures (seed/000_929b1a8b12372564.txt), printed by ``office tour`` beside the demo's.
REPORT = {"card_holders": "1000多名", "awarded": "超过20000分", "merchants": "70家", "teams": "13支",
          "compounds": "6个", "buildings": "50余栋", "review_groups": "6个", "items": "25个",
          "monthly_value": "3万余元"}


@dataclass(order=True)
class _Event:
    at: dt.datetime
    order: int
    kind: str = field(compare=False)
    args: tuple = field(compare=False, default=())


@dataclass
class DemoSummary:
    accounts: int
    cards: int
    merchants: int
    entries: int
    awarded: int
    deducted: int
    redeemed: int
    expired: int


def _name(rng: random.Random, rare_share: float = 0.05) -> str:
    given = rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")
    if rng.random() < rare_share:
        given = (given[0] if len(given) > 1 else "") + rng.choice(RARE)
    return rng.choice(SURNAMES) + given


def _at(rng: random.Random, day: dt.date, first_hour: int = 8, last_hour: int = 20) -> dt.datetime:
    local = dt.datetime.combine(day, dt.time(rng.randrange(first_hour, last_hour), rng.randrange(60),
                                             rng.randrange(60)), clock.LOCAL_TZ)
    return local.astimezone(clock.UTC)


# The communities of a demo district (``office demo --communities N``): Banan's towns and
# communities first, then numbered ones; codes are what a card's QR text allows (bank.district).
DISTRICT = [("LH", "龙海社区"), ("LZW", "龙洲湾社区"), ("YD", "鱼洞社区"), ("LJT", "李家沱社区"), ("HX", "花溪社区"),
            ("NQ", "南泉社区"), ("JS", "界石社区"), ("YP", "一品社区"), ("MD", "木洞社区"), ("ES", "二圣社区"),
            ("DWQ", "东温泉社区"), ("JL", "接龙社区"), ("SL", "石龙社区"), ("FS", "丰盛社区"), ("SHK", "双河口社区"),
            ("AL", "安澜社区"), ("TS", "跳石社区"), ("HM", "惠民社区"), ("NP", "南彭社区"), ("RH", "融汇社区")]
MAX_COMMUNITIES = len(DISTRICT) + 26 * 26


def district_community(index: int) -> tuple[str, str]:
    """(code, name) of the ``index``-th community of a demo district (0: 龙海社区, LH)."""
    if not 0 <= index < MAX_COMMUNITIES:
        raise ValueError(f"a demo district has at most {MAX_COMMUNITIES} communities")
    if index < len(DISTRICT):
        return DISTRICT[index]
    n = index - len(DISTRICT)
    return "Q" + chr(ord("A") + n // 26) + chr(ord("A") + n % 26), f"演示第{index + 1}社区"


def build(path: str | Path, *, seed: int = 1, until: dt.date | None = None,
          keys: keystore.KeyStore | None = None, now: dt.datetime | None = None,
          code: str = "LH", name: str = "龙海社区") -> DemoSummary:
    """Create the demo community ``code`` ``name`` in a new database file at ``path``, or in an
    empty store on PostgreSQL (``path`` a ``postgresql://`` URL: a database ``python -m office
    pg-init`` made, or a new community's schema of a district store, bank.district.new_community,
    migrated and holding no community yet); its issuing key goes to ``keys`` (default: the key
    directory beside the file, or ``$MPB_KEY_DIR`` for a URL, see :mod:`bank.keystore`).

    The history runs from the scheme's start (1 December, two years before ``until``'s year) to the
    end of ``until`` (default: today), and never past ``now`` (default: the clock): a demo built
    in the morning has nothing in the afternoon."""
    now = now or clock.now_utc()
    until = until or clock.local_date(now)
    cutoff = min(now, clock.local_midnight(until + dt.timedelta(days=1)) - dt.timedelta(seconds=1))
    rng = random.Random(seed)
    on_server = db.is_url(path)
    conn = db.connect(path) if on_server else db.connect(path, create=True)
    if keys is not None:
        keystore.use(conn, keys)
    try:
        with db.transaction(conn):
            if on_server and settings.get(conn, "community.code") is not None:
                raise DatabaseError(f"数据库 {db.shown(path)} 里已有社区 {community.code(conn)},不会覆盖。"
                                    "演示社区要建在一个空的数据库里。",
                                    f"{db.shown(path)} already holds a community: the demo needs an empty store")
            summary = _populate(conn, rng, seed, until, cutoff, code, name)
    except BaseException:
        conn.close()
        if not on_server:      # on a server the transaction's rollback left the store as it was
            for suffix in ("", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        raise
    conn.close()
    return summary


def build_district(url: str, communities: int, *, seed: int = 1, until: dt.date | None = None,
                   keys: keystore.KeyStore | None = None, now: dt.datetime | None = None,
                   app_role: str | None = None, progress=None) -> list[tuple[str, str, DemoSummary]]:
    """``communities`` demo communities in the district store at ``url`` (made a district store
    first when it is an empty database): the ``i``-th is :func:`district_community` ``(i)``,
    built from seed ``seed + i``, so the same arguments give the same district. A community that
    is there already is refused (bank.district), with the ones before it kept."""
    from . import district
    now = now or clock.now_utc()
    if not district.has_directory(url):
        district.create(url, app_role=app_role, now=now)
    out = []
    for i in range(communities):
        code, name = district_community(i)
        with district.new_community(url, code=code, name=name, app_role=app_role, now=now) as store_url:
            summary = build(store_url, seed=seed + i, until=until, keys=keys, now=now, code=code, name=name)
        out.append((code, name, summary))
        if progress is not None:
            progress(code, name, summary)
    return out


def _populate(conn, rng: random.Random, seed: int, until: dt.date, cutoff: dt.datetime,
              code: str = "LH", name: str = "龙海社区") -> DemoSummary:
    started_on = dt.date(until.year - 2, 12, 1)
    founded = clock.local_midnight(started_on)
    community.found(conn, code=code, name=name)
    key_seed = hashlib.sha256(f"longhai-demo-issuing-key:{seed}".encode()).digest()
    cards.create_issuing_key(conn, now=founded, private=Ed25519PrivateKey.from_private_bytes(key_seed))
    convention.install(conn, convention.load_file(), effective_from=started_on,
                       note="龙海社区居民公约积分细则(第一版)", now=founded)
    compound_ids = [community.add_compound(conn, name, b, service_point=sp, address=f"龙海社区{name}")
                    for name, b, sp in COMPOUNDS]
    team_ids = [teams.add(conn, n, d, registered_on=started_on, now=founded) for n, d in VOLUNTEER_TEAMS]

    # Accounts: ~70 % households with 2-5 members, the rest single residents.
    account_ids: list[int] = []
    volunteers: list[int] = []
    for i in range(1080):
        cidx = i % len(COMPOUNDS)
        cid = compound_ids[cidx]
        holder = _name(rng)
        household = rng.random() < 0.7
        aid = accounts.open_account(conn, kind="household" if household else "single", holder=holder,
                                    compound_id=cid, building=rng.randint(1, COMPOUNDS[cidx][1]),
                                    unit=rng.randint(1, 4), room=f"{rng.randint(1, 32)}{rng.randint(1, 4):02d}",
                                    now=founded)
        if household:
            surname = holder[0]
            for relation in rng.sample(["配偶", "儿子", "女儿", "父亲", "母亲", "孙子", "孙女"], rng.randint(1, 4)):
                member_name = (surname if relation not in ("配偶", "母亲") else rng.choice(SURNAMES)) + \
                    _name(rng, 0.08)[1:]
                accounts.add_member(conn, aid, member_name, relation)
        if rng.random() < 0.12:
            conn.execute("UPDATE members SET team_id = ? WHERE account_id = ? AND is_holder = 1",
                         (rng.choice(team_ids), aid))
            volunteers.append(aid)
        account_ids.append(aid)
        cards.issue(conn, aid, now=founded)
    pin_salt = rng.randbytes(16)   # one salt for the demo's PINs: each scrypt costs ~0.1 s
    for aid in rng.sample(account_ids, 20):
        conn.execute("UPDATE accounts SET pin_hash = ? WHERE account_id = ?",
                     (accounts.hash_pin("1234", salt=pin_salt), aid))
    for aid in rng.sample(account_ids, 4):
        accounts.set_status(conn, aid, "suspended", now=founded)

    # Merchants, offers, policy, windows.
    merchant_offers: list[tuple[int, list[merchants.Offer]]] = []
    for category, count, names, offers in MERCHANT_PLAN:
        for n in range(count):
            mid = merchants.add_merchant(conn, names[n], category, compound_id=compound_ids[len(merchant_offers) % 6],
                                         address=f"龙海大道{rng.randint(1, 300)}号")
            for offer_name, points, yuan in SHOP_OFFERS.get(names[n], offers):
                merchants.add_offer(conn, mid, offer_name, points, yuan * 100)
            merchant_offers.append((mid, merchants.offers_of(conn, mid)))
    policy.set_policy(conn, None, **vars(policy.OfflinePolicy()))
    for mid, offers in merchant_offers:
        if merchants.get(conn, mid).category in ("gym", "massage", "clinic"):
            policy.set_policy(conn, mid, per_card_daily_cap=100, floor_limit=60)
    point_id = merchant_offers[1][0]
    policy.add_window(conn, merchant_id=point_id, place="龙海社区积分兑换点(社区办公室一楼)",
                      weekdays="1111110", opens="09:00", closes="17:30")
    for mid, _ in merchant_offers[2:]:
        policy.add_window(conn, merchant_id=mid, place=merchants.get(conn, mid).name,
                          weekdays="1111111", opens="07:00", closes="22:00")

    members = _review_groups(conn, seed, compound_ids, founded)
    kiosks, tablets = _devices(conn, seed, compound_ids, [mid for mid, _ in merchant_offers], founded)
    _history(conn, rng, until, cutoff, account_ids, volunteers, merchant_offers, point_id, members, kiosks, tablets)
    return _summary(conn)


def _summary(conn) -> DemoSummary:
    totals = dict(conn.execute("SELECT kind, sum(points) FROM ledger_entries GROUP BY kind").fetchall())
    one = lambda sql: conn.execute(sql).fetchone()[0]  # noqa: E731
    return DemoSummary(
        accounts=one("SELECT count(*) FROM accounts"), cards=one("SELECT count(*) FROM cards"),
        merchants=one("SELECT count(*) FROM merchants"), entries=one("SELECT count(*) FROM ledger_entries"),
        awarded=totals.get("award", 0), deducted=-totals.get("deduction", 0),
        redeemed=-totals.get("redemption", 0), expired=-totals.get("expiry", 0))


def _history(conn, rng: random.Random, until: dt.date, cutoff: dt.datetime, account_ids: list[int],
             volunteers: list[int], merchant_offers: list, point_id: int,
             members: dict[int, list[reviewers.Reviewer]], kiosks: dict[int, str], tablets: dict[int, str]) -> None:
    """Two years of entries, generated first and then applied in time order through the bank's own
    calls, which refuse what they would refuse a user (caps, balances, suspended accounts)."""
    started_on = dt.date(until.year - 2, 12, 1)
    last_day = clock.local_date(cutoff)
    days = [started_on + dt.timedelta(days=d) for d in range((last_day - started_on).days + 1)]
    events: list[_Event] = []
    counter = iter(range(10**9))

    def add(at: dt.datetime, kind: str, *args) -> None:
        if at <= cutoff:
            events.append(_Event(at, next(counter), kind, args))

    # Most of the points go to residents who take part; a few hundred accounts stay quiet.
    engaged = rng.sample(account_ids, 760)
    participants = engaged + volunteers * 3
    # The paper ledger of 2024, typed in compound by compound during the scheme's first month: those
    # points are 2024's and stay valid to the end of 2025, when the residents have spent most of them.
    for aid in rng.sample(engaged, 340):
        add(_at(rng, started_on + dt.timedelta(days=rng.randrange(1, 31)), 9, 17), "adjust", aid, rng.randint(2, 12))
    award_codes, award_w = zip(*AWARD_WEIGHTS.items())
    ded_codes, ded_w = zip(*DEDUCTION_WEIGHTS.items())
    catalog = convention.in_force(conn, started_on)
    mean_award = sum(catalog.item(c).points * w for c, w in AWARD_WEIGHTS.items()) / sum(award_w)
    for _ in range(int(TARGET_AWARDED / mean_award * 1.08)):   # a few are refused by caps
        code = rng.choices(award_codes, award_w)[0]
        aid = rng.choice(volunteers) if code in ("ML01", "ML02") and volunteers else rng.choice(participants)
        add(_at(rng, rng.choice(days)), "item", aid, code)
    for _ in range(DEDUCTIONS):
        # A breach by someone who never took part is rare: that is how a balance goes below zero.
        aid = rng.choice(engaged) if rng.random() < 0.97 else rng.choice(account_ids)
        add(_at(rng, rng.choice(days)), "item", aid, rng.choices(ded_codes, ded_w)[0])
    # Every merchant redeems every month (the report's 70 redeeming units), and more on top.
    for month_start in _month_starts(started_on, last_day):
        month_days = [d for d in days if (d.year, d.month) == (month_start.year, month_start.month)]
        for mid, offers in merchant_offers:
            # (not in the first days of the scheme, when no one has points yet)
            open_days = [d for d in month_days if (mid != point_id or d.weekday() < 6)
                         and d >= started_on + dt.timedelta(days=9)]
            if open_days:
                add(_at(rng, rng.choice(open_days), 9, 17), "redeem_any", mid, [o.offer_id for o in offers])
    for _ in range(REDEMPTIONS_EXTRA):
        mid, offers = rng.choice(merchant_offers)
        day = rng.choice(days)
        if mid == point_id and day.weekday() == 6:
            continue
        offer = rng.choice(offers)
        add(_at(rng, day, 9, 17), "redeem", rng.choice(participants), mid, offer.offer_id,
            1 if offer.points > 3 else rng.randint(1, 4))
    for _ in range(LOST_CARDS):
        add(_at(rng, rng.choice(days)), "lost", rng.choice(account_ids))
    for year in range(started_on.year + 1, last_day.year + 1):
        add(dt.datetime.combine(dt.date(year, 1, 1), dt.time(0, 5), clock.LOCAL_TZ).astimezone(clock.UTC), "expiry")
    events.sort()

    to_reverse: list[ledger.Entry] = []  # mistakes found two hours later, posted in time order

    def reverse_due(until_at: dt.datetime) -> None:
        while to_reverse and clock.from_text(to_reverse[0].recorded_at) + dt.timedelta(hours=2) <= until_at:
            e = to_reverse.pop(0)
            if e.kind == "award" and balances[e.account_id] < e.points:
                continue   # already spent: the office leaves it rather than overdraw the household
            booked(ledger.reverse(conn, e.entry_id, recorded_by="社区办公室",
                           now=clock.from_text(e.recorded_at) + dt.timedelta(hours=2),
                           note="记录有误,冲正" if e.kind != "redemption" else "顾客退货,撤销兑换"))

    def redeem(aid: int, mid: int, offer_id: int, qty: int, at: dt.datetime) -> ledger.Entry:
        e = ledger.record_redemption(conn, aid, offer_id, qty, recorded_by=f"device:{tablets[mid]}",
                                     device_id=tablets[mid], now=at, device_time=clock.to_text(at))
        booked(e)
        return e

    threshold = reviewers.second_confirm_above(conn)
    suspended = {a for (a,) in conn.execute("SELECT account_id FROM accounts WHERE status <> 'active'")}
    balances = dict.fromkeys(account_ids, 0)   # kept beside the ledger so choosing who can pay is cheap

    def booked(*entries: ledger.Entry) -> None:
        for e in entries:
            balances[e.account_id] += e.points

    for ev in events:
        reverse_due(ev.at)
        try:
            if ev.kind == "adjust":
                aid, pts = ev.args
                booked(ledger.record_adjustment(conn, aid, pts, recorded_by="社区办公室", now=ev.at,
                                                note=f"{until.year - 2}年纸质台账结转"))
            elif ev.kind == "item":
                aid, code = ev.args
                points = catalog.item(code).points
                if points < 0 and balances[aid] < -points and rng.random() < 0.75:
                    # A breach is mostly by someone with points to lose; the rare rest is how a
                    # balance goes below zero (always by a deduction, never by a redemption).
                    aid = next((a for a in rng.sample(engaged, 40) if balances[a] >= -points), aid)
                cid = accounts.get(conn, aid).compound_id
                # Recorded by the compound's review group (never for a member's own household, a
                # second member for a weighty entry), at the service point's kiosk or the office.
                group = [m for m in members[cid] if not reviewers.recused(m, aid)]
                member, *others = rng.sample(group, len(group))
                second = others[0] if reviewers.needs_second(points, threshold) else None
                by = recorders.of_member(member.name, second.name if second else None)
                e = ledger.record_item(conn, aid, code, recorded_by=by,
                                       device_id=kiosks[cid] if rng.random() < 0.6 else "office",
                                       now=ev.at, device_time=clock.to_text(ev.at))
                booked(e)
                if rng.random() < 0.004:
                    to_reverse.append(e)
            elif ev.kind == "redeem":
                aid, mid, offer_id, qty = ev.args
                e = redeem(aid, mid, offer_id, qty, ev.at)
                if rng.random() < 0.004:
                    to_reverse.append(e)
            elif ev.kind == "redeem_any":   # the month's sure one: someone with the points for it
                mid, offer_ids = ev.args
                cheapest = min(offer_ids, key=lambda o: merchants.offer(conn, o).points)
                for offer_id in (rng.choice(offer_ids), cheapest):
                    price = merchants.offer(conn, offer_id).points
                    start = rng.randrange(len(participants))
                    aid = next((a for a in participants[start:] + participants[:start] if balances[a] >= price
                                and a not in suspended), None)
                    if aid is not None:
                        redeem(aid, mid, offer_id, 1, ev.at)
                        break
            elif ev.kind == "lost":
                (aid,) = ev.args
                card = [c for c in cards.cards_of(conn, aid) if c.role == "resident"][-1]
                if card.status == "active":
                    cards.reissue(conn, card.card_id, reason="lost", now=ev.at)
            elif ev.kind == "expiry":
                booked(*validity.run_expiry(conn, clock.local_date(ev.at), now=ev.at))
        except BankError:
            continue  # the bank refused (cap, balance, suspended): the demo respects it like a user would
    reverse_due(cutoff)
    # Two cards revoked outright (reported stolen, no reissue yet).
    for aid in rng.sample(account_ids, 2):
        card = [c for c in cards.cards_of(conn, aid) if c.role == "resident"][-1]
        if card.status == "active":
            cards.revoke(conn, card.card_id, reason="stolen", now=min(cutoff, clock.local_midnight(last_day)))
    # The devices synced as the sync service records it (``note_contact``): each pushed its last
    # entry when it made it, and every device pulled at the nightly 02:00 sync.
    nightly = clock.local_midnight(last_day) + dt.timedelta(hours=2)
    nightly = nightly if nightly <= cutoff else nightly - dt.timedelta(days=1)
    conn.execute("UPDATE devices SET last_pull_at = ?, clock_skew_s = 0, last_push_at = (SELECT max(recorded_at) "
                 "FROM ledger_entries e WHERE e.device_id = devices.device_id)", (clock.to_text(nightly),))


def _month_starts(first: dt.date, last: dt.date) -> list[dt.date]:
    out, day = [], first.replace(day=1)
    while day <= last:
        out.append(day)
        day = (day + dt.timedelta(days=32)).replace(day=1)
    return out


REVIEWER_PIN = "2468"   # every demo review-group member's PIN (documented in docs/kiosk-guide.md)
REVIEWERS_PER_COMPOUND = 3


def _review_groups(conn, seed: int, compound_ids: list[int], at: dt.datetime) -> dict[int, list[reviewers.Reviewer]]:
    """Three review-group members per compound with staff cards, from the scheme's start: they
    record the compound's entries (their own random stream, so the roster does not move when the
    history does)."""
    rng = random.Random(f"review-groups:{seed}")
    salt = rng.randbytes(16)
    out = {}
    for cid in compound_ids:
        rows = conn.execute("SELECT account_id, display_name FROM accounts WHERE compound_id = ? AND status = 'active' "
                            "ORDER BY account_id LIMIT 40", (cid,)).fetchall()
        out[cid] = [reviewers.add(conn, compound_id=cid, account_id=account_id, name=name, pin=REVIEWER_PIN, now=at,
                                  salt=salt)[0]
                    for account_id, name in rng.sample(rows, REVIEWERS_PER_COMPOUND)]
    return out


def _devices(conn, seed: int, compound_ids: list[int], merchant_ids: list[int],
             at: dt.datetime) -> tuple[dict[int, str], dict[int, str]]:
    """The kiosk of every service point and a tablet at every merchant, enrolled with one-time codes
    as the office enrols any device (keys and codes from the seed): {compound: kiosk id},
    {merchant: tablet id}."""
    rng = random.Random(f"devices:{seed}")

    def enrol(label: str, **where) -> str:
        code = devices.new_enrolment_code(conn, now=at, rng=rng, **where)
        key = Ed25519PrivateKey.from_private_bytes(rng.randbytes(32)).public_key().public_bytes_raw()
        return devices.enrol(conn, code, key, label=label, now=at).device_id

    kiosks = {}
    for cid in compound_ids:
        sp, name = conn.execute("SELECT service_point_id, name FROM service_points WHERE compound_id = ?",
                                (cid,)).fetchone()
        kiosks[cid] = enrol(f"{name}一体机", service_point_id=sp)
    tablets = {mid: enrol(f"{merchants.get(conn, mid).name}平板", merchant_id=mid) for mid in merchant_ids}
    return kiosks, tablets


def publish_posting(conn, compound_id: int, *, by: str, now: dt.datetime | None = None):
    """Last quarter's posting of a compound, opened today, as the console does it: the quarter's
    verification is run first (the console refuses a posting without one), then the posting, each
    in the audit log. Returns the posting, or None when it is there already."""
    now = now or clock.now_utc()
    quarter = periods.previous_quarter(now)
    if postings.find(conn, "quarterly", quarter.key, compound_id) is not None:
        return None
    with db.transaction(conn):
        if quarterly_check.latest_run(conn, quarter.key) is None:
            run = quarterly_check.run(conn, quarter, by=by, now=now)
            audit.record(conn, by, "verification.run", quarter.key,
                         {"run_id": run.run_id, "checked": run.checked_entries,
                          "anomalies": len(quarterly_check.anomalies(conn, run.run_id))}, now=now)
        today = clock.local_date(now)
        p = postings.publish(conn, kind="quarterly", period=quarter, compound_id=compound_id,
                             opens_on=max(today, quarter.last_day + dt.timedelta(days=1)), days=14, by=by, now=now)
        audit.record(conn, by, "posting.publish", f"posting {p.posting_id}",
                     {"quarter": quarter.key, "compound": compound_id, "opens_on": p.opens_on,
                      "closes_on": p.closes_on}, now=now)
    return p


def figures(conn, now: dt.datetime | None = None) -> list[tuple[str, str, str]]:
    """The report's figures beside a store's own (label, report, store), for ``office tour``."""
    one = lambda sql, *args: conn.execute(sql, args).fetchone()[0]  # noqa: E731
    today = clock.local_date(now or clock.now_utc())
    unreversed = "NOT EXISTS (SELECT 1 FROM ledger_entries r WHERE r.reverses_entry_id = e.entry_id)"
    # Whole months only (the current one is still running): the redemptions' value and who redeemed.
    first = one("SELECT min(recorded_at) FROM ledger_entries")
    months = _month_starts(clock.local_date(clock.from_text(first)), today)[1:-1] if first else []
    values, redeeming = [], []
    for start in months:
        end = (start + dt.timedelta(days=32)).replace(day=1)
        lo, hi = clock.to_text(clock.local_midnight(start)), clock.to_text(clock.local_midnight(end))
        values.append(one("SELECT coalesce(sum(o.value_fen * e.quantity), 0) FROM ledger_entries e JOIN offers o "
                          f"USING (offer_id) WHERE e.kind = 'redemption' AND {unreversed} AND e.recorded_at >= ? "
                          "AND e.recorded_at < ?", lo, hi))
        redeeming.append(one("SELECT count(DISTINCT merchant_id) FROM ledger_entries WHERE kind = 'redemption' "
                             "AND recorded_at >= ? AND recorded_at < ?", lo, hi))
    items = len(convention.in_force(conn, today).items)
    holders = one("SELECT count(DISTINCT account_id) FROM cards WHERE role = 'resident' AND status = 'active'")
    awarded = one(f"SELECT coalesce(sum(points), 0) FROM ledger_entries e WHERE kind = 'award' AND {unreversed}")
    shops = one("SELECT count(*) FROM merchants WHERE status = 'active'")
    groups = one("SELECT count(DISTINCT compound_id) FROM reviewers WHERE active = 1")
    return [
        ("小区", REPORT["compounds"], f"{one('SELECT count(*) FROM compounds')}个"),
        ("住宅楼", REPORT["buildings"], f"{one('SELECT sum(buildings) FROM compounds')}栋"),
        ("持卡居民", REPORT["card_holders"], f"{holders}户"),
        ("累计获得积分", REPORT["awarded"], f"{awarded}分"),
        ("兑换单位", REPORT["merchants"], f"{shops}家" + (f",每月有兑换的至少{min(redeeming)}家" if redeeming else "")),
        ("每月商品和服务", REPORT["monthly_value"] + "(商户提供)",
         f"平均每月兑换 ¥{money.yuan(sum(values) // len(values))}" if values else "—"),
        ("志愿者队伍", REPORT["teams"], f"{one('SELECT count(*) FROM volunteer_teams')}支"),
        ("道德积分评议小组", REPORT["review_groups"], f"{groups}个"),
        ("积分扣分细项", REPORT["items"], f"{items}个"),
    ]
