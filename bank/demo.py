"""A demo community shaped like Longhai, built deterministically from a seed and an end date.

Six compounds, 50+ buildings, 1,000+ accounts with synthetic Chinese names, cards (some reissued
after loss), 13 volunteer teams, 70 merchants with offers, and a year of history that respects
the convention's caps: awards, deductions, redemptions, a few reversals and an expiry run.
Nothing here is random between runs: the issuing key and PIN salts derive from the seed too.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from . import accounts, cards, clock, community, convention, db, keystore, ledger, merchants, policy, reviewers, teams, validity
from .errors import BankError

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

# category, count, shop-name stems, offers (name, points, value in yuan)
MERCHANT_PLAN = [
    ("bank", 1, ["重庆农商行龙海支行"], [("环保购物袋", 3, 5), ("毛巾礼盒", 20, 25), ("理财知识讲座名额", 5, 10)]),
    ("redemption_point", 1, ["龙海社区积分兑换点"], [("洗衣液", 12, 15), ("大米5斤", 25, 30), ("食用油", 30, 35), ("纸巾一提", 10, 12)]),
    ("pharmacy", 5, ["康健大药房", "桐君阁药房", "和平药房", "益丰药房", "民生药房"],
     [("量血压测血糖", 2, 5), ("口罩一盒", 8, 10), ("医用棉签", 3, 4)]),
    ("gym", 2, ["动力健身房", "悦跑健身"], [("单次健身", 15, 30), ("瑜伽体验课", 20, 40)]),
    ("noodles", 12, ["老街小面", "重庆小面王", "龙海面庄", "张记豌杂面", "幺妹牛肉面", "江湖小面", "渝味面馆",
                     "胖哥酸辣粉", "老巷子面馆", "滨江小面", "刘记小面", "山城面馆"],
     [("小面", 6, 7), ("豌杂面", 8, 10), ("牛肉面", 12, 15)]),
    ("massage", 3, ["康乐推拿", "舒心足疗", "颐和按摩"], [("肩颈推拿", 25, 48), ("足疗", 30, 58)]),
    ("snacks", 11, ["包子铺", "王婆抄手", "周记汤圆", "老味道馒头", "甜心小吃", "阿婆凉糕", "渝香烧饼",
                    "龙海早点", "四季豆花", "蛋烘糕小铺", "麻花铺"],
     [("馒头", 1, 1), ("肉包子", 2, 2), ("抄手一碗", 8, 10)]),
    ("hairdresser", 8, ["新潮美发", "剪艺工作室", "丝域造型", "老王理发", "美丽人生发型", "名剪", "发艺坊", "靓点美发"],
     [("洗剪吹", 15, 25), ("老人理发", 8, 12), ("洗头", 5, 8)]),
    ("training", 4, ["启航书法培训", "小星星舞蹈", "智慧珠心算", "乐学美术"], [("体验课一节", 20, 60), ("书法字帖", 10, 15)]),
    ("supermarket", 8, ["永辉便利店", "龙海超市", "惠民生鲜", "百家乐超市", "佳佳便利", "新一佳超市", "邻里便利店", "好又多"],
     [("鸡蛋10个", 8, 10), ("酱油一瓶", 6, 8), ("牙膏", 7, 9)]),
    ("bakery", 5, ["面包新语", "麦香坊", "好利来", "甜蜜蜜烘焙", "早安面包"], [("吐司面包", 8, 10), ("蛋糕切块", 10, 12)]),
    ("clinic", 2, ["龙海社区诊所", "仁心中医诊所"], [("中医理疗一次", 20, 40), ("健康体检套餐", 50, 80)]),
    ("laundry", 4, ["洁净洗衣", "衣之家干洗", "快洗坊", "白云洗衣"], [("干洗一件", 12, 15), ("洗鞋一双", 10, 15)]),
    ("tea", 4, ["老茶馆", "品茗轩", "江边茶楼", "悠然茶社"], [("盖碗茶", 5, 8), ("茶叶一两", 15, 20)]),
]

AWARD_WEIGHTS = {  # item code: relative frequency of being recorded for an account
    "XS01": 30, "XS02": 8, "XS03": 2, "RJ01": 14, "RJ02": 9, "RJ03": 12, "ML01": 2, "ML02": 12,
    "ML03": 2, "ML04": 5, "ML05": 2, "YC01": 2, "YC02": 1, "YC03": 0.1, "YC04": 2, "YC05": 2,
}
DEDUCTION_WEIGHTS = {"XS04": 10, "XS05": 1, "XS06": 1, "XS07": 3, "RJ04": 1, "RJ05": 0.3, "RJ06": 4,
                     "ML06": 2, "YC06": 0.2}
TARGET_AWARDED = 20_000


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


def build(path: str | Path, *, seed: int = 1, until: dt.date | None = None,
          keys: keystore.KeyStore | None = None) -> DemoSummary:
    """Create the demo community in a new database file at ``path``; its issuing key goes to
    ``keys`` (default: the key directory beside the file, see :mod:`bank.keystore`)."""
    until = until or clock.local_date(clock.now_utc())
    rng = random.Random(seed)
    start = until - dt.timedelta(days=364)
    conn = db.connect(path, create=True)
    if keys is not None:
        keystore.use(conn, keys)
    try:
        with db.transaction(conn):
            summary = _populate(conn, rng, seed, start, until)
    except BaseException:
        conn.close()
        for suffix in ("", "-wal", "-shm"):
            Path(str(path) + suffix).unlink(missing_ok=True)
        raise
    conn.close()
    return summary


def _populate(conn, rng: random.Random, seed: int, start: dt.date, until: dt.date) -> DemoSummary:
    founded = clock.local_midnight(dt.date(until.year - 2, 12, 1))
    community.found(conn, code="LH", name="龙海社区")
    key_seed = hashlib.sha256(f"longhai-demo-issuing-key:{seed}".encode()).digest()
    cards.create_issuing_key(conn, now=founded, private=Ed25519PrivateKey.from_private_bytes(key_seed))
    convention.install(conn, convention.load_file(), effective_from=dt.date(until.year - 2, 12, 1),
                       note="龙海社区居民公约积分细则(第一版)", now=founded)
    compound_ids = [community.add_compound(conn, name, b, service_point=sp, address=f"龙海社区{name}")
                    for name, b, sp in COMPOUNDS]
    team_ids = [teams.add(conn, n, d, registered_on=dt.date(until.year - 2, 12, 1), now=founded) for n, d in VOLUNTEER_TEAMS]

    # Accounts: ~70 % households with 2-5 members, the rest single residents.
    account_ids, staff_names = [], {cid: [] for cid in compound_ids}
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
        if len(staff_names[cid]) < 5 and rng.random() < 0.05:
            staff_names[cid].append(holder)
        account_ids.append(aid)
        cards.issue(conn, aid, now=founded)
    for aid in rng.sample(account_ids, 20):
        conn.execute("UPDATE accounts SET pin_hash = ? WHERE account_id = ?",
                     (accounts.hash_pin("1234", salt=rng.randbytes(16)), aid))
    for aid in rng.sample(account_ids, 4):
        accounts.set_status(conn, aid, "suspended", now=founded)

    # Merchants, offers, policy, windows.
    merchant_offers: list[tuple[int, list[merchants.Offer]]] = []
    for category, count, names, offers in MERCHANT_PLAN:
        for n in range(count):
            mid = merchants.add_merchant(conn, names[n], category, compound_id=compound_ids[len(merchant_offers) % 6],
                                         address=f"龙海大道{rng.randint(1, 300)}号")
            for offer_name, points, yuan in offers:
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

    # History, in time order: events are generated first, then applied chronologically.
    events: list[_Event] = []
    counter = iter(range(10**9))
    carry_day = dt.datetime.combine(dt.date(until.year - 2, 12, 31), dt.time(10), clock.LOCAL_TZ).astimezone(clock.UTC)
    for aid in rng.sample(account_ids, 320):
        events.append(_Event(carry_day, next(counter), "adjust", (aid, rng.randint(2, 12))))
    days = [start + dt.timedelta(days=d) for d in range((until - start).days + 1)]
    award_codes, award_w = zip(*AWARD_WEIGHTS.items())
    ded_codes, ded_w = zip(*DEDUCTION_WEIGHTS.items())
    catalog = convention.in_force(conn, start)
    mean_award = sum(catalog.item(c).points * w for c, w in AWARD_WEIGHTS.items()) / sum(award_w)
    n_awards = int(TARGET_AWARDED / mean_award * 1.08)  # a few are refused by caps
    active_ids = account_ids[:]
    engaged = rng.sample(active_ids, 700) + volunteers * 3
    for _ in range(n_awards):
        code = rng.choices(award_codes, award_w)[0]
        aid = rng.choice(volunteers) if code in ("ML01", "ML02") and volunteers else rng.choice(engaged)
        events.append(_Event(_at(rng, rng.choice(days)), next(counter), "item", (aid, code)))
    for _ in range(260):
        events.append(_Event(_at(rng, rng.choice(days)), next(counter), "item",
                             (rng.choice(active_ids), rng.choices(ded_codes, ded_w)[0])))
    for _ in range(2600):
        mid, offers = rng.choice(merchant_offers)
        offer = rng.choice(offers)
        qty = 1 if offer.points > 3 else rng.randint(1, 4)
        events.append(_Event(_at(rng, rng.choice(days), 9, 17), next(counter), "redeem",
                             (rng.choice(engaged), mid, offer.offer_id, qty)))
    for _ in range(30):
        events.append(_Event(_at(rng, rng.choice(days)), next(counter), "lost", (rng.choice(account_ids),)))
    expiry_at = dt.datetime.combine(dt.date(until.year, 1, 1), dt.time(0, 5), clock.LOCAL_TZ).astimezone(clock.UTC)
    events.append(_Event(expiry_at, next(counter), "expiry"))
    events.sort()

    to_reverse: list[ledger.Entry] = []  # mistakes found two hours later, posted in time order

    def reverse_due(until_at: dt.datetime) -> None:
        while to_reverse and clock.from_text(to_reverse[0].recorded_at) + dt.timedelta(hours=2) <= until_at:
            e = to_reverse.pop(0)
            ledger.reverse(conn, e.entry_id, recorded_by="社区办公室",
                           now=clock.from_text(e.recorded_at) + dt.timedelta(hours=2),
                           note="记录有误,冲正" if e.kind != "redemption" else "顾客退货,撤销兑换")

    for ev in events:
        reverse_due(ev.at)
        try:
            if ev.kind == "adjust":
                aid, pts = ev.args
                ledger.record_adjustment(conn, aid, pts, recorded_by="社区办公室", now=ev.at,
                                         note=f"{until.year - 2}年纸质台账结转")
            elif ev.kind == "item":
                aid, code = ev.args
                cid = accounts.get(conn, aid).compound_id
                member = rng.choice(staff_names[cid] or ["评议小组"])
                e = ledger.record_item(conn, aid, code, recorded_by=f"评议小组成员:{member}",
                                       device_id=f"kiosk-{cid}" if rng.random() < 0.6 else "office",
                                       now=ev.at, device_time=clock.to_text(ev.at))
                if rng.random() < 0.004:
                    to_reverse.append(e)
            elif ev.kind == "redeem":
                aid, mid, offer_id, qty = ev.args
                e = ledger.record_redemption(conn, aid, offer_id, qty, recorded_by=f"merchant:{mid}",
                                             device_id=f"tablet-m{mid}", now=ev.at,
                                             device_time=clock.to_text(ev.at))
                if rng.random() < 0.004:
                    to_reverse.append(e)
            elif ev.kind == "lost":
                (aid,) = ev.args
                card = cards.cards_of(conn, aid)[-1]
                if card.status == "active":
                    cards.reissue(conn, card.card_id, reason="lost", now=ev.at)
            elif ev.kind == "expiry":
                validity.run_expiry(conn, dt.date(until.year, 1, 1), now=ev.at)
        except BankError:
            continue  # the bank refused (cap, balance, suspended): the demo respects it like a user would
    reverse_due(clock.local_midnight(until + dt.timedelta(days=2)))
    # Two cards revoked outright (reported stolen, no reissue yet).
    for aid in rng.sample(account_ids, 2):
        card = cards.cards_of(conn, aid)[-1]
        if card.status == "active":
            cards.revoke(conn, card.card_id, reason="stolen", now=clock.local_midnight(until))

    _review_groups(conn, seed, compound_ids, until)

    totals = dict(conn.execute("SELECT kind, sum(points) FROM ledger_entries GROUP BY kind").fetchall())
    return DemoSummary(
        accounts=len(account_ids), cards=conn.execute("SELECT count(*) FROM cards").fetchone()[0],
        merchants=len(merchant_offers), entries=conn.execute("SELECT count(*) FROM ledger_entries").fetchone()[0],
        awarded=totals.get("award", 0), deducted=-totals.get("deduction", 0),
        redeemed=-totals.get("redemption", 0), expired=-totals.get("expiry", 0))


REVIEWER_PIN = "2468"   # every demo review-group member's PIN (documented in docs/kiosk-guide.md)
REVIEWERS_PER_COMPOUND = 3


def _review_groups(conn, seed: int, compound_ids: list[int], until: dt.date) -> None:
    """Three review-group members per compound with staff cards, added last with their own random
    stream, so the rest of the demo (and every card id before theirs) is unchanged by them."""
    rng = random.Random(f"review-groups:{seed}")
    at = clock.local_midnight(until - dt.timedelta(days=300))
    for cid in compound_ids:
        rows = conn.execute("SELECT account_id, display_name FROM accounts WHERE compound_id = ? AND status = 'active' "
                            "ORDER BY account_id LIMIT 40", (cid,)).fetchall()
        for account_id, name in rng.sample(rows, REVIEWERS_PER_COMPOUND):
            reviewers.add(conn, compound_id=cid, account_id=account_id, name=name, pin=REVIEWER_PIN, now=at,
                          salt=rng.randbytes(16))
