"""Console users (office staff, council members, review-group members, merchants) and sessions.

Passwords are hashed with salted scrypt. A session is a random token given to the browser; only
its hash is stored, so a copy of the database cannot be used to log in. Sessions end after
``IDLE_MINUTES`` without a request and at most ``MAX_HOURS`` after log-in.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import sqlite3
from dataclasses import dataclass

from . import clock, db, merchants, reviewers, settings
from .errors import InvalidInput, NotFound

ROLES = {"office": "社区办公室", "council": "道德评议会成员", "reviewer": "评议小组成员", "merchant": "商户",
         "district": "区级工作人员"}
# Who logs in where: a community's console takes its own staff, the district view (office.district,
# on the directory schema of a district store, bank.district) the district's staff only.
COMMUNITY_ROLES = ("office", "council", "reviewer", "merchant")
DISTRICT_ROLES = ("district",)
# scrypt at n=2**14 costs ~50 ms: slow enough to hurt guessing from a stolen copy, quick to log in.
_SCRYPT = dict(n=2**14, r=8, p=1, dklen=32)
MIN_PASSWORD = 10
MAX_PASSWORD = 128
# zxcvbn's score 3 ("safely unguessable", about 10^8 guesses or more): a password that a
# copied store's slow hashes (scrypt) do not give up in a day of guessing, and far beyond the
# console's attempt limit. Its lists (common passwords, words, names, keyboard walks, dates)
# catch 12345678, password1, qwertyuiop, woaini1314 and the like.
MIN_PASSWORD_SCORE = 3
IDLE_MINUTES = 30
MAX_HOURS = 10


@dataclass(frozen=True)
class User:
    user_id: int
    name: str
    role: str
    compound_id: int | None
    merchant_id: int | None
    active: bool
    # The user's row in bank.reviewers when they are a review-group member: recusal is decided by
    # that member's household account, the same rule as at the kiosk.
    reviewer_id: int | None = None

    @property
    def role_name(self) -> str:
        return ROLES[self.role]


@dataclass(frozen=True)
class Session:
    user: User
    csrf: str


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    salt = salt or secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, maxmem=64 * 2**20, **_SCRYPT)
    return f"scrypt${_SCRYPT['n']}${_SCRYPT['r']}${_SCRYPT['p']}${salt.hex()}${digest.hex()}"


def check_password(password_hash: str, password: str) -> bool:
    try:
        _, n, r, p, salt, digest = password_hash.split("$")
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(digest) // 2, maxmem=64 * 2**20)
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got.hex(), digest)


def check_new_password(password: str, *, name: str = "", context: tuple[str, ...] = ()) -> None:
    """Refuse a password that is too short or too easy to guess (one rule for the command line,
    the console's user admin and every password change). ``name`` and ``context`` (community
    code and name) count as words a guesser would try first."""
    if not isinstance(password, str) or not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise InvalidInput(f"密码须为{MIN_PASSWORD}到{MAX_PASSWORD}个字符。",
                           f"a password is {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    from zxcvbn import zxcvbn    # loads its word lists (~0.3 s): only when a password is set
    inputs = [w for w in (name, *context) if isinstance(w, str) and w]
    result = zxcvbn(password, user_inputs=inputs)
    if result["score"] < MIN_PASSWORD_SCORE:
        common = any(m.get("dictionary_name") == "passwords" for m in result["sequence"])
        why = "这是常见密码之一" if common and len(result["sequence"]) == 1 else "密码太容易被猜到"
        raise InvalidInput(
            f"{why}(如 12345678、password、连续或重复的字符、键盘顺序、日期、用户名)。"
            "请换一个更长、不常见的密码,例如几个不相关的词加数字。",
            "the password is too easy to guess (a common password, a sequence, a keyboard walk, a date "
            "or the user name): choose a longer, uncommon one")


def password_context(conn: sqlite3.Connection) -> tuple[str, ...]:
    return tuple(v for v in (settings.get(conn, "community.code"), settings.get(conn, "community.name")) if v)


def check_reviewer_link(conn: sqlite3.Connection, reviewer_id: int, *, user_id: int | None = None) -> reviewers.Reviewer:
    """The active review-group member a console user is to be linked to (one user per member)."""
    member = reviewers.get(conn, reviewer_id)
    if not member.active:
        raise InvalidInput("该评议小组成员已退出小组。", f"reviewer {reviewer_id} is not active")
    row = conn.execute("SELECT name FROM console_users WHERE reviewer_id = ? AND user_id IS NOT ?",
                       (reviewer_id, user_id)).fetchone()
    if row:
        raise InvalidInput(f"该评议小组成员已关联用户“{row[0]}”。", f"reviewer {reviewer_id} already has a user")
    return member


def add_user(conn: sqlite3.Connection, *, name: str, role: str, password: str,
             compound_id: int | None = None, merchant_id: int | None = None, reviewer_id: int | None = None,
             now=None) -> int:
    """Create a console user.

    A reviewer is linked to their row in the compound's review group (``reviewer_id``; the compound
    comes from it): one notion of review-group member for the kiosk and the office. Office staff or
    council members who also sit in a review group may be linked too, so recusal applies to them.
    A merchant user needs a merchant id."""
    name = name.strip() if isinstance(name, str) else ""
    if not name or len(name) > 20:
        raise InvalidInput("用户名不能为空,且不超过20个字。", "user name must be 1-20 characters")
    if role not in ROLES:
        raise InvalidInput("角色只能是 office、council、reviewer、merchant 或 district。", f"unknown role {role!r}")
    founded = settings.get(conn, "community.code") is not None
    if role == "district" and founded:
        raise InvalidInput("区级工作人员只能添加在区级数据库本身(--db 区级地址,不带 --community),不能添加到社区。",
                           "a district user belongs to the district store itself (no --community), not to a community")
    if role != "district" and not founded and _is_directory(conn):
        raise InvalidInput("区级数据库本身只能添加区级工作人员(--role district);社区用户请加 --community 代码。",
                           "the district store itself holds district users only; add --community CODE for a community user")
    if reviewer_id is not None:
        if role == "merchant":
            raise InvalidInput("商户用户不能关联评议小组成员。", "a merchant user is not a review-group member")
        member = check_reviewer_link(conn, reviewer_id)
        if role == "reviewer":
            if compound_id is not None and compound_id != member.compound_id:
                raise InvalidInput("所选成员不属于该小区的评议小组。", "the member is in another compound")
            compound_id = member.compound_id
    if role == "reviewer":
        if reviewer_id is None:
            raise InvalidInput("评议小组成员用户须关联一位评议小组成员(先在“评议小组”中添加)。",
                               "a reviewer user needs a review-group member (reviewer_id)")
    elif compound_id is not None:
        raise InvalidInput("只有评议小组成员需要指定小区。", "only a reviewer has a compound")
    if role == "merchant":
        if merchant_id is None:
            raise InvalidInput("商户用户须指定商户编号。", "a merchant user needs a merchant id")
        merchants.get(conn, merchant_id)
    elif merchant_id is not None:
        raise InvalidInput("只有商户用户需要指定商户。", "only a merchant user has a merchant id")
    check_new_password(password, name=name, context=password_context(conn))
    if conn.execute("SELECT 1 FROM console_users WHERE name = ?", (name,)).fetchone():
        raise InvalidInput(f"用户名“{name}”已被使用。", f"user name {name!r} is taken")
    return conn.execute(
        "INSERT INTO console_users (name, role, compound_id, merchant_id, reviewer_id, password_hash, created_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?)",
        (name, role, compound_id, merchant_id, reviewer_id, hash_password(password),
         clock.to_text(now or clock.now_utc()))).lastrowid


_USER_COLUMNS = "user_id, name, role, compound_id, merchant_id, active, reviewer_id"


def _user(row) -> User:
    return User(row[0], row[1], row[2], row[3], row[4], bool(row[5]), row[6])


def get(conn: sqlite3.Connection, user_id: int) -> User:
    row = conn.execute(f"SELECT {_USER_COLUMNS} FROM console_users WHERE user_id = ?", (user_id,)).fetchone()
    if row is None:
        raise NotFound(f"没有编号为 {user_id} 的用户。", f"no user {user_id}")
    return _user(row)


def all_users(conn: sqlite3.Connection) -> list[User]:
    return [_user(r) for r in conn.execute(f"SELECT {_USER_COLUMNS} FROM console_users ORDER BY user_id")]


def by_reviewer(conn: sqlite3.Connection, reviewer_id: int) -> User | None:
    row = conn.execute(f"SELECT {_USER_COLUMNS} FROM console_users WHERE reviewer_id = ?", (reviewer_id,)).fetchone()
    return _user(row) if row else None


def set_active(conn: sqlite3.Connection, user_id: int, active: bool) -> None:
    get(conn, user_id)
    conn.execute("UPDATE console_users SET active = ? WHERE user_id = ?", (int(active), user_id))
    if not active:
        end_sessions(conn, user_id)


def set_password(conn: sqlite3.Connection, user_id: int, password: str, *, now=None) -> None:
    """A new password (reset by the office or changed by the user): every session of the user
    ends, so whoever knew the old password is logged out too."""
    user = get(conn, user_id)
    check_new_password(password, name=user.name, context=password_context(conn))
    conn.execute("UPDATE console_users SET password_hash = ? WHERE user_id = ?", (hash_password(password), user_id))
    end_sessions(conn, user_id, now=now)


def end_sessions(conn: sqlite3.Connection, user_id: int, *, now=None) -> int:
    """End every live session of a user (disabled, password reset); returns how many."""
    return conn.execute("UPDATE console_sessions SET ended_at = ? WHERE user_id = ? AND ended_at IS NULL",
                        (clock.to_text(now or clock.now_utc()), user_id)).rowcount


_DUMMY_HASH = hash_password("not a password", salt=b"\0" * 16)


def _is_directory(conn) -> bool:
    """Whether the store is the directory schema of a district store (bank.district)."""
    return conn.execute("SELECT count(*) FROM information_schema.tables WHERE table_name = 'communities' "
                        "AND table_schema = current_schema()").fetchone()[0] > 0 \
        if db.engine(conn) == "postgresql" else False


def authenticate(conn: sqlite3.Connection, name: str, password: str,
                 roles: tuple[str, ...] = COMMUNITY_ROLES) -> User | None:
    """The user if name and password match an active user of one of ``roles``, else None (same
    cost either way): a community console passes its roles, the district view the district's."""
    if not isinstance(name, str) or not isinstance(password, str) or len(password) > MAX_PASSWORD:
        return None
    row = conn.execute(f"SELECT {_USER_COLUMNS}, password_hash FROM console_users WHERE name = ?",
                       (name.strip(),)).fetchone()
    ok = check_password(row[7] if row else _DUMMY_HASH, password)
    if row is None or not ok or not row[5] or row[2] not in roles:
        return None
    return _user(row)


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(conn: sqlite3.Connection, user: User, *, now=None) -> str:
    """A new session token for the browser's cookie."""
    token = secrets.token_urlsafe(32)
    at = clock.to_text(now or clock.now_utc())
    conn.execute("INSERT INTO console_sessions (token_hash, user_id, csrf, created_at, seen_at) "
                 "VALUES (?, ?, ?, ?, ?)", (_token_hash(token), user.user_id, secrets.token_urlsafe(24), at, at))
    return token


def session(conn: sqlite3.Connection, token: str | None, *, now=None) -> Session | None:
    """The live session of a token (and mark it seen), or None if unknown, ended or expired."""
    if not token or len(token) > 100:
        return None
    now = now or clock.now_utc()
    row = conn.execute("SELECT s.user_id, s.csrf, s.created_at, s.seen_at, s.ended_at, u.active "
                       "FROM console_sessions s JOIN console_users u USING (user_id) WHERE token_hash = ?",
                       (_token_hash(token),)).fetchone()
    if row is None or row[4] is not None or not row[5]:
        return None
    created, seen = clock.from_text(row[2]), clock.from_text(row[3])
    if now - seen > dt.timedelta(minutes=IDLE_MINUTES) or now - created > dt.timedelta(hours=MAX_HOURS):
        return None
    # Write "seen" at most once a minute: most page views then stay read-only.
    if now - seen > dt.timedelta(minutes=1):
        conn.execute("UPDATE console_sessions SET seen_at = ? WHERE token_hash = ?",
                     (clock.to_text(now), _token_hash(token)))
    return Session(get(conn, row[0]), row[1])


def end_session(conn: sqlite3.Connection, token: str | None, *, now=None) -> None:
    if token:
        conn.execute("UPDATE console_sessions SET ended_at = ? WHERE token_hash = ? AND ended_at IS NULL",
                     (clock.to_text(now or clock.now_utc()), _token_hash(token)))
