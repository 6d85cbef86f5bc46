"""Importing what the community already keeps in spreadsheets: the roster of households and their
members, merchants with their offers and hours, and opening balances carried over from the paper
ledger (台账).

The rules here work on grids of cell values, one list per sheet row, as a spreadsheet reader
yields them (``office.spreadsheets`` reads and writes the files). :func:`layout` finds each sheet
and its header; :func:`plan` checks every row and lists every problem (sheet, row, column, in
Chinese) beside the counts of what would be added; :func:`run` plans again inside one transaction
and writes only when there is no problem at all: all or nothing.

**An import adds; it never edits.** Each kind of thing has a natural key, and a row whose key is
already in the store is skipped when it says the same and is a problem when it says something
else (the office changes existing data in the console, where the change is seen and audited).
So the same file imported twice adds nothing the second time. The keys, and why:

- a household: compound + building + unit + room + holder's name. Paper rosters carry no account
  number; the address alone is not enough (a split household keeps its flat, under another
  holder) and the holder alone is not either (namesakes are common).
- a member: the household + the member's name (a household does not give two members one name).
- a merchant: its name (the store already holds names unique); an offer: merchant + offer name
  (unique too); opening hours: merchant + weekdays + opening and closing time.
- an opening balance: the account alone; its ledger ref is ``opening:<account id>``, so the store
  itself refuses a second one. Not the row's content: a corrected file (50 -> 60 points) imported
  again would then carry a second opening balance and double the account's points.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import sqlite3
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Callable, Protocol, Sequence

from . import accounts, cards, clock, community, ledger, merchants, policy
from .db import transaction
from .errors import InvalidInput

KINDS = {"roster": "储户名册", "merchants": "商户与兑换项目", "balances": "期初余额"}
HEADER_ROWS = 10          # the header is looked for in the first rows (titles, merged headings)
EXAMPLE = "示例"           # a row whose 序号 says this is the template's example and is not imported
MAX_VALID_YEARS = 10      # an opening balance valid further ahead than this is a typing mistake
OPENING_REF = "opening:"
MAX_VALUE_FEN = 10_000_000   # 100,000 yuan: no single offer is worth more; a bigger number is a typo


# --- what each sheet holds -----------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    key: str
    header: str                 # as the template writes it
    required: bool
    help: str                   # one sentence for the template's explanation sheet
    example: object = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class SheetSpec:
    name: str
    columns: tuple[Column, ...]
    aliases: tuple[str, ...] = ()

    def column(self, key: str) -> Column:
        return next(c for c in self.columns if c.key == key)

    @property
    def required(self) -> tuple[Column, ...]:
        return tuple(c for c in self.columns if c.required)


_SEQ = Column("seq", "序号", False, f"可不填。写“{EXAMPLE}”的一行是示例,不会导入。", EXAMPLE, ("编号", "No", "NO."))
_ADDRESS = (
    Column("compound", "小区", True, "小区名称(如 龙海花园)或小区编号。", "龙海花园", ("小区名称", "所在小区")),
    Column("building", "楼栋", True, "楼栋号,数字;写成 3、3栋、3幢、3号楼 都可以。", "3栋", ("栋", "楼号", "栋号", "幢")),
    Column("unit", "单元", True, "单元号,数字 1 到 20;写成 2 或 2单元 都可以。", "2单元", ("单元号",)),
    Column("room", "房号", True, "房号;写成 1502 或 1502室 都可以。", "1502室", ("室", "房间号", "门牌号")),
    Column("holder", "户主", True, "户主姓名(不超过20个字)。", "张喆明", ("户主姓名",)),
)
ROSTER = SheetSpec("储户名册", (
    _SEQ, *_ADDRESS,
    Column("member", "成员姓名", False, "家庭成员的姓名,一人一行;空着或与户主相同表示户主本人这一行。", "李梅",
           ("姓名", "成员", "家庭成员")),
    Column("relation", "与户主关系", False, "如 配偶、儿子、女儿、父亲、母亲;户主本人写“本人”或空着;成员不填时记为“其他”。",
           "配偶", ("关系",)),
    Column("kind", "类型", False, "家庭 或 个人;不填时,有其他成员的是家庭,只有户主的是个人。", "家庭",
           ("储户类型", "户别")),
), aliases=("名册", "储户", "花名册"))
MERCHANTS = SheetSpec("商户", (
    _SEQ,
    Column("name", "商户名称", True, "商户名称(不超过40个字),全社区不重复。", "老街小面", ("商户", "名称", "店名")),
    Column("category", "类别", True, "商户类别:" + "、".join(merchants.CATEGORIES.values()) + "。", "面馆",
           ("商户类别", "类型")),
    Column("compound", "小区", False, "所在小区名称或编号;可不填。", "龙海花园", ("所在小区",)),
    Column("address", "地址", False, "地址(不超过100个字);可不填。", "龙海大道88号", ("商户地址",)),
), aliases=("商户名单", "商户信息"))
OFFERS = SheetSpec("兑换项目", (
    _SEQ,
    Column("merchant", "商户名称", True, "商户名称,须在“商户”表中或系统中已有。", "老街小面", ("商户",)),
    Column("name", "项目名称", True, "可兑换的商品或服务(不超过40个字)。", "小面(二两)", ("兑换项目", "项目", "商品")),
    Column("points", "积分", True, "兑换所需积分,1 到 10000 的整数。", 6, ("所需积分", "兑换积分")),
    Column("value", "价值(元)", True, "商品或服务的价值,单位元,最多两位小数,如 6 或 6.50。", "6.00", ("价值", "价格", "金额")),
), aliases=("兑换商品", "项目"))
HOURS = SheetSpec("营业时间", (
    _SEQ,
    Column("merchant", "商户名称", True, "商户名称,须在“商户”表中或系统中已有。", "老街小面", ("商户",)),
    Column("weekdays", "营业日", True, "如 每天、周一至周五、周六、周日、周一、周三;也可写7位0和1(周一在前)。",
           "周一至周五", ("兑换日", "星期", "营业星期")),
    Column("opens", "开始", True, "开始兑换的时间,如 09:00。", "07:00", ("开始时间", "开门时间")),
    Column("closes", "结束", True, "结束兑换的时间,如 21:30,须晚于开始时间。", "21:30", ("结束时间", "关门时间")),
    Column("place", "兑换地点", False, "在哪里兑换(不超过60个字);不填时为商户名称。", "老街小面店内", ("地点",)),
), aliases=("兑换时间", "营业时段"))
BALANCES = SheetSpec("期初余额", (
    _SEQ, *_ADDRESS,
    Column("points", "积分", True, "纸质台账上的现有积分,正整数。", 120, ("余额", "现有积分", "积分余额")),
    Column("valid_until", "有效期至", True, "这些积分的最后有效日,如 2027-12-31、2027/12/31 或 2027年12月31日。",
           "YEAR_END", ("有效期", "到期日")),
    Column("note", "备注", False, "可不填;会写入台账备注(不超过100个字)。", "2024年纸质台账结转", ("说明",)),
), aliases=("余额", "纸质台账", "台账"))

SPECS: dict[str, tuple[SheetSpec, ...]] = {"roster": (ROSTER,), "merchants": (MERCHANTS, OFFERS, HOURS),
                                           "balances": (BALANCES,)}
# Which sheets a file must have: merchants may come alone, offers and hours too (for merchants
# already in the store), but at least one of the three.
_REQUIRED_SHEETS = {"roster": ("储户名册",), "balances": ("期初余额",), "merchants": ()}

COUNTS = {
    "roster": ("households", "members", "cards", "households_existing", "members_existing"),
    "merchants": ("merchants", "offers", "windows", "merchants_existing", "offers_existing", "windows_existing"),
    "balances": ("adjustments", "points", "adjustments_existing"),
}


def example_value(column: Column, today: dt.date):
    """The template's example for a column (an opening balance's validity runs to next year's end)."""
    return dt.date(today.year + 1, 12, 31) if column.example == "YEAR_END" else column.example


# --- problems ------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Problem:
    sheet: str
    row: int | None       # the spreadsheet's row number; None for the header or the whole sheet
    column: str           # the column's header as the file writes it ('' for a whole row or sheet)
    cell: str             # e.g. 'C5' ('' when not one cell)
    message: str

    def text(self) -> str:
        where = self.sheet
        if self.row is not None:
            where += f" 第{self.row}行"
        elif self.column:
            where += " 表头"
        if self.column:
            where += f" {self.column}" + (f"({self.cell})" if self.cell else "")
        return f"{where}:{self.message}"

    def as_dict(self) -> dict:
        return {"sheet": self.sheet, "row": self.row, "column": self.column, "cell": self.cell,
                "message": self.message, "text": self.text()}


def column_letter(index: int) -> str:
    """0 -> A, 25 -> Z, 26 -> AA."""
    out, n = "", index + 1
    while n:
        n, r = divmod(n - 1, 26)
        out = chr(65 + r) + out
    return out


# --- cell values: what real spreadsheets hold ---------------------------------------------------

_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)} | {0x3000: 0x20, 0xA0: 0x20}
_INVISIBLE = dict.fromkeys((0x200B, 0x200C, 0x200D, 0xFEFF))
_SPACES = re.compile(r"\s+")
_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff·"
# Names are padded to line up in printed rosters ("张  三" under "欧阳明"): spaces between
# Chinese characters are not part of a name; spaces in a Latin name are.
_CJK_GAP = re.compile(f"(?<=[{_CJK}]) +(?=[{_CJK}])")


class _Bad(Exception):
    """A cell that cannot be read as what its column holds; the message is the problem."""


def text(value) -> str:
    """A cell as tidy text: full-width letters, digits and spaces made plain, spaces collapsed."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    elif isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    s = str(value).translate(_INVISIBLE).translate(_FULLWIDTH)
    return _SPACES.sub(" ", s).strip()


def name(value) -> str:
    return _CJK_GAP.sub("", text(value))


def _key(s: str) -> str:
    """How two spellings are compared: full-width punctuation as plain, case ignored."""
    return unicodedata.normalize("NFKC", s).casefold().replace(" ", "")


def _plain(value) -> str:
    return unicodedata.normalize("NFKC", text(value)).replace(" ", "")


def whole(value, *, prefixes: tuple[str, ...] = (), suffixes: tuple[str, ...] = ()) -> int:
    """An integer from a number cell or text ('3', '3栋', '第3栋', '1,200')."""
    if isinstance(value, bool):
        raise _Bad(text(value))
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if value.is_integer():
            return int(value)
        raise _Bad(f"{value:g}")
    s = _plain(value).replace(",", "")
    for p in prefixes:
        s = s.removeprefix(p)
    for suffix in suffixes:
        if s.endswith(suffix):
            s = s[: -len(suffix)]
            break
    if re.fullmatch(r"[+-]?\d{1,9}", s):
        return int(s)
    raise _Bad(text(value))


_DATE = re.compile(r"(\d{4})[-/.年](\d{1,2})[-/.月](\d{1,2})日?(?:0{1,2}:00(?::00(?:\.0+)?)?)?")


def date_of(value) -> dt.date:
    """A date from a date cell or from text: 2024-12-31, 2024/12/31, 2024.12.31, 2024年12月31日."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    m = _DATE.fullmatch(_plain(value).replace("T", ""))
    if m:
        try:
            return dt.date(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            pass
    raise _Bad(text(value))


_TIME = re.compile(r"(\d{1,2})(?::(\d{2})(?::00)?|[点时](?:(\d{1,2})分?|半)?)")


def time_of(value) -> str:
    """'HH:MM' from a time cell, a fraction of a day, or text ('9:00', '09:00:00', '9点', '9点30')."""
    if isinstance(value, dt.datetime):
        value = value.time()
    if isinstance(value, dt.time):
        return f"{value.hour:02d}:{value.minute:02d}"
    if isinstance(value, float) and 0 <= value < 1:
        minutes = round(value * 24 * 60)
        return f"{minutes // 60:02d}:{minutes % 60:02d}"
    s = _plain(value)
    m = _TIME.fullmatch(s)
    if m:
        hour = int(m[1])
        minute = int(m[2] or m[3] or (30 if s.endswith("半") else 0))
        if hour < 24 and minute < 60:
            return f"{hour:02d}:{minute:02d}"
    raise _Bad(text(value))


def fen_of(value) -> int:
    """Yuan (a number cell, or text such as '6', '6.5', '¥6.50', '6元') as integer fen."""
    if isinstance(value, bool):
        raise _Bad(text(value))
    if isinstance(value, (int, float)):
        amount = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    else:
        s = _plain(value).replace(",", "").removeprefix("¥").removeprefix("¥").removesuffix("元")
        if not re.fullmatch(r"-?\d{1,7}(\.\d+)?", s):
            raise _Bad(text(value))
        try:
            amount = Decimal(s)
        except InvalidOperation:
            raise _Bad(text(value)) from None
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise _Bad(text(value))
    return int(fen)


_DAY = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_WEEK_WORDS = {"每天": "1111111", "每日": "1111111", "天天": "1111111", "全周": "1111111", "全天": "1111111",
               "工作日": "1111100", "周末": "0000011", "双休日": "0000011"}
_RANGE = re.compile(r"(?:周|星期|礼拜)([一二三四五六日天七])(?:至|到|~|-|—|–)(?:周|星期|礼拜)?([一二三四五六日天七])")
_ONE = re.compile(r"(?:周|星期|礼拜)([一二三四五六日天七])")


def weekdays_of(value) -> str:
    """Seven 0/1 flags, Monday first, from '每天', '周一至周五', '周六、周日', '工作日' or '1111100'."""
    s = _plain(value)
    if re.fullmatch(r"[01]{7}", s):
        return s
    flags = [0] * 7
    parts = [p for p in re.split(r"[、,;/和及]", s) if p]
    if not parts:
        raise _Bad(text(value))
    for part in parts:
        if part in _WEEK_WORDS:
            flags = [f | int(w) for f, w in zip(flags, _WEEK_WORDS[part])]
        elif m := _RANGE.fullmatch(part):
            a, b = _DAY[m[1]], _DAY[m[2]]
            if a > b:
                raise _Bad(text(value))
            for d in range(a, b + 1):
                flags[d] = 1
        elif m := _ONE.fullmatch(part):
            flags[_DAY[m[1]]] = 1
        else:
            raise _Bad(text(value))
    return "".join(map(str, flags))


def room_of(value) -> str:
    s = text(value).replace(" ", "")
    for suffix in ("室", "号", "房"):
        s = s.removesuffix(suffix)
    return s


def _header_names(s: str) -> set[str]:
    s = _plain(s).replace("*", "").replace("(必填)", "").replace("(选填)", "")
    return {_key(s), _key(re.sub(r"\(.*?\)", "", s))}


# --- finding the sheets and their headers ---------------------------------------------------------

@dataclass
class Table:
    """One sheet of the file as the spec reads it: where each column is and the data rows."""
    spec: SheetSpec
    title: str                          # the sheet's name in the file
    header_row: int
    columns: dict[str, int]             # column key -> 0-based index
    headers: dict[str, str]             # column key -> the header as the file writes it
    rows: list[tuple[int, Sequence]] = field(default_factory=list)   # (row number, cell values)


@dataclass
class Book:
    kind: str
    tables: dict[str, Table]            # by spec name
    problems: list[Problem]             # of the layout: sheets or columns that are missing

    @property
    def rows(self) -> int:
        return sum(len(t.rows) for t in self.tables.values())


def _find_header(grid: list[Sequence], spec: SheetSpec):
    """(row index, key -> column index, key -> header text) of the first row that names every
    required column, else the best partial match (for the problem list) with row index None."""
    wanted = {c.key: {n for h in (c.header, *c.aliases) for n in _header_names(h)} for c in spec.columns}
    best = (None, {}, {})
    for r, row in enumerate(grid[:HEADER_ROWS]):
        found, headers = {}, {}
        for j, value in enumerate(row):
            names = _header_names(text(value)) if value is not None else set()
            for key, options in wanted.items():
                if key not in found and names & options:
                    found[key], headers[key] = j, text(value)
                    break
        if all(c.key in found for c in spec.required):
            return r, found, headers
        if sum(c.key in found for c in spec.required) > sum(c.key in best[1] for c in spec.required):
            best = (None, found, headers)
    return best


def layout(kind: str, grids: dict[str, list[Sequence]]) -> Book:
    """Find each sheet of ``kind`` in a workbook's grids (sheet name -> rows of cell values).

    A sheet is found by its name (or a usual other name), else as the first other sheet whose
    header names every required column ("Sheet1" is common). Within it the header is the first
    of the first rows to name every required column: title rows and headings merged over several
    columns above it are passed over. Empty rows, the template's example row and a header
    repeated further down (printed page by page) are not data.
    """
    if kind not in SPECS:
        raise InvalidInput("没有这种导入。", f"unknown import kind {kind!r}")
    tables: dict[str, Table] = {}
    problems: list[Problem] = []
    claimed: set[str] = set()
    by_name = {_key(t): t for t in grids}
    for spec in SPECS[kind]:
        title = next((by_name[k] for k in map(_key, (spec.name, *spec.aliases)) if k in by_name and
                      by_name[k] not in claimed), None)
        if title is None:
            title = next((t for t in grids if t not in claimed and _find_header(grids[t], spec)[0] is not None), None)
            if title is None:
                if spec.name in _REQUIRED_SHEETS[kind]:
                    problems.append(Problem(spec.name, None, "", "",
                                            f"文件中没有“{spec.name}”工作表,也没有表头含"
                                            f"{'、'.join('“' + c.header + '”' for c in spec.required)}的工作表"))
                continue
        claimed.add(title)
        grid = grids[title]
        r, found, headers = _find_header(grid, spec)
        if r is None:
            for c in spec.required:
                if c.key not in found:
                    problems.append(Problem(title, None, c.header, "",
                                            f"找不到这一列;请使用模板中的表头(表头须在前{HEADER_ROWS}行内)"))
            continue
        table = Table(spec, title, r + 1, found, headers)
        seq = found.get("seq")
        header_texts = {k: _key(text(grid[r][j])) for k, j in found.items()}
        for i in range(r + 1, len(grid)):
            values = grid[i]
            if all(text(v) == "" for v in values):
                continue
            if seq is not None and seq < len(values) and text(values[seq]) == EXAMPLE:
                continue
            if all(j < len(values) and _key(text(values[j])) == header_texts[k] for k, j in found.items()):
                continue
            table.rows.append((i + 1, values))
        tables[spec.name] = table
    if kind == "merchants" and not tables and not problems:
        problems.append(Problem("商户", None, "", "", "文件中没有“商户”“兑换项目”或“营业时间”工作表"))
    return Book(kind, tables, problems)


# --- checking rows --------------------------------------------------------------------------------

class Progress(Protocol):
    def phase(self, label: str, total: int) -> None: ...
    def step(self, n: int) -> None: ...


_EVERY = 200   # rows between progress reports


@dataclass
class Plan:
    kind: str
    rows: int
    problems: list[Problem]
    counts: dict[str, int]
    steps: list[Callable[["_Writer"], None]] = field(default_factory=list, repr=False)

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        return describe(self.kind, self.counts)


class _Row:
    """One data row being checked: its cells by column key, and the problems found in it."""

    def __init__(self, check: "_Check", table: Table, number: int, values: Sequence):
        self.check, self.table, self.number, self.values = check, table, number, values
        self.bad: set[str] = set()

    def raw(self, key: str):
        j = self.table.columns.get(key)
        return self.values[j] if j is not None and j < len(self.values) else None

    def problem(self, key: str, message: str) -> None:
        j = self.table.columns.get(key)
        header = self.table.headers.get(key) or self.table.spec.column(key).header
        cell = f"{column_letter(j)}{self.number}" if j is not None else ""
        self.check.problems.append((self.check.order[self.table.spec.name], self.number,
                                    list(self.table.spec.columns).index(self.table.spec.column(key)),
                                    Problem(self.table.title, self.number, header, cell, message)))
        self.bad.add(key)

    def get(self, key: str, parse, message: str | Callable[[str], str]):
        """The cell parsed, or None when blank (a problem if the column is required); a cell that
        does not parse is a problem, ``message`` saying why (given the cell's text)."""
        raw = self.raw(key)
        column = self.table.spec.column(key)
        if text(raw) == "":
            if column.required:
                self.problem(key, f"请填写“{column.header}”")
            return None
        try:
            return parse(raw)
        except _Bad as exc:
            self.problem(key, message(str(exc)) if callable(message) else message)
            return None


class _Check:
    def __init__(self, conn, book: Book, today: dt.date, progress: Progress | None):
        self.conn, self.book, self.today, self.progress = conn, book, today, progress
        self.problems: list[tuple] = []
        self.order = {s.name: i for i, s in enumerate(SPECS[book.kind])}
        self.counts = dict.fromkeys(COUNTS[book.kind], 0)
        self.steps: list[Callable] = []
        self._compounds = None

    def rows(self, sheet: str):
        table = self.book.tables.get(sheet)
        if table is None:
            return
        if self.progress:
            self.progress.phase(f"检查“{table.title}”", len(table.rows))
        for n, (number, values) in enumerate(table.rows, 1):
            yield _Row(self, table, number, values)
            if self.progress and (n % _EVERY == 0 or n == len(table.rows)):
                self.progress.step(n % _EVERY or _EVERY)

    def compound(self, row: _Row) -> community.Compound | None:
        """By name (with or without 小区) or number."""
        if self._compounds is None:
            self._compounds = {}
            for c in community.compounds(self.conn):
                base = c.name.removesuffix("小区")
                for k in (c.name, base, base + "小区", str(c.compound_id)):
                    self._compounds.setdefault(_key(k), c)
        return row.get("compound", lambda v: self._compounds.get(_key(text(v))) or _fail(v),
                       lambda v: f"没有这个小区:“{v}”(本社区的小区:"
                                 f"{'、'.join(c.name for c in community.compounds(self.conn))})")

    def address(self, row: _Row):
        """(compound, building, unit, room, holder) of a roster or balance row, or None if bad."""
        comp = self.compound(row)
        building = row.get("building", lambda v: whole(v, prefixes=("第",), suffixes=("号楼", "栋", "幢", "楼", "号", "座")),
                           lambda v: f"楼栋须为数字,如 3 或 3栋(本格是“{v}”)")
        if comp is not None and building is not None and not 1 <= building <= comp.buildings:
            row.problem("building", f"没有第 {building} 栋:{comp.name}共 {comp.buildings} 栋")
            building = None
        unit = row.get("unit", lambda v: whole(v, prefixes=("第",), suffixes=("单元", "单")),
                       lambda v: f"单元须为数字,如 2 或 2单元(本格是“{v}”)")
        if unit is not None and not 1 <= unit <= 20:
            row.problem("unit", f"单元须为 1 到 20(本格是 {unit})")
            unit = None
        room = row.get("room", room_of, "")
        if room is not None and len(room) > 10:
            row.problem("room", "房号不能超过10个字")
            room = None
        holder = row.get("holder", name, "")
        if holder is not None and len(holder) > 20:
            row.problem("holder", "户主姓名不能超过20个字")
            holder = None
        if None in (comp, building, unit, room, holder):
            return None
        return comp.compound_id, building, unit, room, holder

    def households(self) -> dict[tuple, list[tuple[int, str, str]]]:
        """Every account by its natural key: [(account id, kind, status)]."""
        out: dict[tuple, list] = {}
        for r in self.conn.execute("SELECT account_id, kind, status, compound_id, building, unit, room, display_name "
                                   "FROM accounts ORDER BY account_id"):
            out.setdefault((r[3], r[4], r[5], room_of(r[6]), name(r[7])), []).append((r[0], r[1], r[2]))
        return out

    def finish(self) -> Plan:
        problems = [p for *_, p in sorted(self.problems, key=lambda t: t[:3])]
        return Plan(self.book.kind, self.book.rows, list(self.book.problems) + problems, self.counts, self.steps)


def _fail(value):
    raise _Bad(text(value))


def _where(comp_name: str, building: int, unit: int, room: str) -> str:
    return f"{comp_name} {building}栋{unit}单元{room}室"


_NO_EDIT = "导入只添加,不修改已有内容;如需修改请在管理台办理"


def _kind_of(value) -> str:
    s = _plain(value)
    for kind, words in (("household", ("家庭", "家庭户", "家", "户")), ("single", ("个人", "个人户", "单人", "个"))):
        if s in words:
            return kind
    raise _Bad(text(value))


@dataclass
class _House:
    first: _Row
    address: tuple
    kind: str | None = None
    kind_row: int | None = None
    members: dict[str, tuple[_Row, str]] = field(default_factory=dict)


def _roster(c: _Check) -> None:
    existing = c.households()
    member_rows: dict[int, dict[str, str]] = {}
    for aid, nm, relation in c.conn.execute("SELECT account_id, name, relation FROM members"):
        member_rows.setdefault(aid, {})[name(nm)] = relation
    names = {cp.compound_id: cp.name for cp in community.compounds(c.conn)}
    houses: dict[tuple, _House] = {}
    seen: dict[tuple, int] = {}
    for row in c.rows("储户名册"):
        address = c.address(row)
        member = row.get("member", name, "")
        if member is not None and len(member) > 20:
            row.problem("member", "成员姓名不能超过20个字")
        relation = row.get("relation", text, "") or ""
        if len(relation) > 10:
            row.problem("relation", "与户主关系不能超过10个字")
        kind = row.get("kind", _kind_of, lambda v: f"类型只能填“家庭”或“个人”(本格是“{v}”)")
        if address is None or "member" in row.bad:
            continue
        holder = address[4]
        member = member or holder
        is_holder = member == holder
        if is_holder and relation not in ("", "本人", "户主"):
            row.problem("relation", f"这一行是户主本人,关系应为“本人”或空着(本格是“{relation}”)")
        elif not is_holder and relation in ("本人", "户主"):
            row.problem("relation", f"关系为“{relation}”,但成员“{member}”不是户主“{holder}”")
        person = (address, member)
        if person in seen:
            row.problem("member" if not is_holder else "holder", f"与第 {seen[person]} 行重复(同一户的同一人)")
            continue
        seen[person] = row.number
        house = houses.setdefault(address, _House(row, address))
        if kind is not None:
            if house.kind is not None and house.kind != kind:
                row.problem("kind", f"与第 {house.kind_row} 行的类型不一致(同一户只能是家庭或个人之一)")
            elif house.kind is None:
                house.kind, house.kind_row = kind, row.number
        if not is_holder:
            house.members[member] = (row, relation)

    for address, house in houses.items():
        kind = house.kind or ("household" if house.members else "single")
        if kind == "single" and house.members:
            first = next(iter(house.members.values()))[0]
            first.problem("member", f"第 {house.kind_row} 行的类型是“个人”,个人储户不能有其他家庭成员")
            continue
        matches = existing.get(address, [])
        live = [m for m in matches if m[2] != "closed"]
        where = _where(names[address[0]], *address[1:4])
        if len(live) > 1:
            house.first.problem("holder", f"系统中有 {len(live)} 户的地址和户主都与本户相同(储户 "
                                          f"{'、'.join(str(m[0]) for m in live)}),请在管理台核对后再导入")
            continue
        if not live and matches:
            house.first.problem("holder", f"此户(储户 {matches[-1][0]})已销户,不再导入;如需重新开户请在管理台办理")
            continue
        if live:
            aid, stored_kind, _ = live[0]
            c.counts["households_existing"] += 1
            if house.kind is not None and house.kind != stored_kind:
                house.first.problem("kind", f"{where}已是{accounts.KIND_NAMES[stored_kind]}储户(储户 {aid}),与本行不同;{_NO_EDIT}")
                continue
            have = member_rows.get(aid, {})
            for member, (row, relation) in house.members.items():
                if member in have:
                    if relation and have[member] != relation:
                        row.problem("relation", f"“{member}”已是储户 {aid} 的成员,关系为“{have[member]}”,与本行不同;{_NO_EDIT}")
                    else:
                        c.counts["members_existing"] += 1
                elif stored_kind == "single":
                    row.problem("member", f"储户 {aid} 是个人储户,不能添加家庭成员;{_NO_EDIT}")
                else:
                    c.counts["members"] += 1
                    c.steps.append(_add_member(aid, member, relation or "其他"))
            continue
        c.counts["households"] += 1
        c.counts["cards"] += 1
        c.counts["members"] += len(house.members)
        c.steps.append(_open_household(kind, address, [(m, rel or "其他") for m, (_, rel) in house.members.items()]))


def _open_household(kind: str, address: tuple, members: list[tuple[str, str]]):
    def step(w: _Writer) -> None:
        compound_id, building, unit, room, holder = address
        aid = accounts.open_account(w.conn, kind=kind, holder=holder, compound_id=compound_id, building=building,
                                    unit=unit, room=room, now=w.now)
        for member, relation in members:
            accounts.add_member(w.conn, aid, member, relation)
        card = cards.issue(w.conn, aid, now=w.now)
        w.new_accounts.append(aid)
        w.cards.append(card.card_id)
    return step


def _add_member(aid: int, member: str, relation: str):
    def step(w: _Writer) -> None:
        accounts.add_member(w.conn, aid, member, relation)
    return step


def _balances(c: _Check) -> None:
    existing = c.households()
    opening = {int(r[0][len(OPENING_REF):]): (r[1], r[2], r[3]) for r in c.conn.execute(
        "SELECT ref, points, valid_until, recorded_at FROM ledger_entries WHERE ref LIKE ?", (OPENING_REF + "%",))}
    names = {cp.compound_id: cp.name for cp in community.compounds(c.conn)}
    latest = dt.date(c.today.year + MAX_VALID_YEARS, 12, 31)
    seen: dict[int, int] = {}
    for row in c.rows("期初余额"):
        address = c.address(row)
        points = row.get("points", lambda v: whole(v, suffixes=("分",)),
                         lambda v: f"积分须为整数(本格是“{v}”)")
        if points is not None and points < 0:
            row.problem("points", f"期初余额不能为负数(本格是 {points});欠分请在储户页办理调整")
            points = None
        elif points == 0:
            row.problem("points", "积分为 0,无需导入;请删除这一行")
            points = None
        until = row.get("valid_until", date_of, lambda v: f"“{v}”不是日期;请写成 2027-12-31、2027/12/31 或 2027年12月31日")
        if until is not None and until < c.today:
            row.problem("valid_until", f"有效期至 {until.isoformat()} 已过,这些积分已经到期")
            until = None
        elif until is not None and until > latest:
            row.problem("valid_until", f"有效期至 {until.isoformat()} 太远(最晚 {latest.isoformat()}),请核对年份")
            until = None
        note = row.get("note", text, "") or ""
        if len(note) > 100:
            row.problem("note", "备注不能超过100个字")
        if address is None:
            continue
        matches = existing.get(address, [])
        live = [m for m in matches if m[2] != "closed"]
        where = _where(names[address[0]], *address[1:4])
        if not matches:
            row.problem("holder", f"找不到此户({where},户主 {address[4]});请先导入储户名册,或核对地址和户主")
            continue
        if not live:
            row.problem("holder", f"此户(储户 {matches[-1][0]})已销户,不能导入余额")
            continue
        if len(live) > 1:
            row.problem("holder", f"系统中有 {len(live)} 户的地址和户主都与本户相同(储户 "
                                  f"{'、'.join(str(m[0]) for m in live)}),请在管理台核对后再导入")
            continue
        aid = live[0][0]
        if aid in seen:
            row.problem("holder", f"与第 {seen[aid]} 行是同一户;每户只导入一笔期初余额")
            continue
        seen[aid] = row.number
        if points is None or until is None or row.bad:
            continue
        if aid in opening:
            had_points, had_until, at = opening[aid]
            if (had_points, had_until) == (points, until.isoformat()):
                c.counts["adjustments_existing"] += 1
            else:
                day = clock.local_date(clock.from_text(at)).isoformat()
                row.problem("points", f"此户已于 {day} 导入期初余额 {had_points} 分(有效期至 {had_until}),与本行不同;"
                                      "导入不修改已记的台账,如需更正请在储户页办理调整")
            continue
        c.counts["adjustments"] += 1
        c.counts["points"] += points
        c.steps.append(_opening(aid, points, until, note))


def _opening(aid: int, points: int, until: dt.date, note: str):
    def step(w: _Writer) -> None:
        ledger.record_adjustment(w.conn, aid, points, recorded_by=w.recorded_by,
                                 note="纸质台账期初余额" + (f":{note}" if note else ""), now=w.now,
                                 ref=f"{OPENING_REF}{aid}", valid_until=until)
    return step


def _category(value) -> str:
    s = _key(text(value))
    for code, zh in merchants.CATEGORIES.items():
        if s in (_key(zh), code):
            return code
    raise _Bad(text(value))


def _merchants(c: _Check) -> None:
    stored = {_key(m.name): m for m in merchants.all_merchants(c.conn)}
    known: dict[str, str] = {k: m.name for k, m in stored.items()}     # key -> name, in the store or the file
    seen: dict[str, int] = {}
    for row in c.rows("商户"):
        nm = row.get("name", text, "")
        if nm is not None and len(nm) > 40:
            row.problem("name", "商户名称不能超过40个字")
            nm = None
        category = row.get("category", _category,
                           lambda v: f"没有这个类别:“{v}”(可填:{'、'.join(merchants.CATEGORIES.values())})")
        comp = c.compound(row)
        address = row.get("address", text, "") or ""
        if len(address) > 100:
            row.problem("address", "地址不能超过100个字")
        if nm is None:
            continue
        k = _key(nm)
        if k in seen:
            row.problem("name", f"与第 {seen[k]} 行是同一商户")
            continue
        seen[k] = row.number
        known.setdefault(k, nm)
        if row.bad:
            continue
        if k in stored:
            m = stored[k]
            clash = False
            if category != m.category:
                row.problem("category", f"已有商户“{m.name}”的类别是“{merchants.CATEGORIES.get(m.category, m.category)}”,"
                                        f"与本行不同;{_NO_EDIT}")
                clash = True
            if comp is not None and comp.compound_id != m.compound_id:
                row.problem("compound", f"已有商户“{m.name}”的小区是“{_compound_name(c, m.compound_id)}”,"
                                        f"与本行不同;{_NO_EDIT}")
                clash = True
            if address and address != m.address:
                row.problem("address", f"已有商户“{m.name}”的地址是“{m.address or '未填'}”,与本行不同;{_NO_EDIT}")
                clash = True
            if not clash:
                c.counts["merchants_existing"] += 1
            continue
        c.counts["merchants"] += 1
        c.steps.append(_new_merchant(nm, category, comp.compound_id if comp else None, address))

    def merchant_of(row: _Row) -> str | None:
        nm = row.get("merchant", text, "")
        if nm is None:
            return None
        if _key(nm) not in known:
            row.problem("merchant", f"找不到商户“{nm}”:请先在“商户”表中填写,或核对名称")
            return None
        return known[_key(nm)]

    offers = {(m.merchant_id, _key(o.name)): o for m in stored.values()
              for o in merchants.offers_of(c.conn, m.merchant_id, active_only=False)}
    seen_offers: dict[tuple, int] = {}
    for row in c.rows("兑换项目"):
        merchant = merchant_of(row)
        nm = row.get("name", text, "")
        if nm is not None and len(nm) > 40:
            row.problem("name", "项目名称不能超过40个字")
            nm = None
        points = row.get("points", lambda v: whole(v, suffixes=("分",)), lambda v: f"积分须为整数(本格是“{v}”)")
        if points is not None and not 1 <= points <= 10_000:
            row.problem("points", f"积分须为 1 到 10000(本格是 {points})")
            points = None
        value = row.get("value", fen_of, lambda v: f"价值须为金额(元),最多两位小数,如 6 或 6.50(本格是“{v}”)")
        if value is not None and not 0 <= value <= MAX_VALUE_FEN:
            row.problem("value", "价值不能为负数" if value < 0 else f"价值不能超过 {MAX_VALUE_FEN // 100} 元")
            value = None
        if merchant is None or nm is None:
            continue
        key = (_key(merchant), _key(nm))
        if key in seen_offers:
            row.problem("name", f"与第 {seen_offers[key]} 行重复(同一商户的同一项目)")
            continue
        seen_offers[key] = row.number
        if points is None or value is None:
            continue
        m = stored.get(_key(merchant))
        o = offers.get((m.merchant_id, _key(nm))) if m else None
        if o is not None:
            if o.points != points:
                row.problem("points", f"“{merchant}”已有项目“{o.name}”,积分是 {o.points},与本行不同;{_NO_EDIT}")
            if o.value_fen != value:
                row.problem("value", f"“{merchant}”已有项目“{o.name}”,价值是 {o.value_yuan} 元,与本行不同;{_NO_EDIT}")
            if (o.points, o.value_fen) == (points, value):
                c.counts["offers_existing"] += 1
            continue
        c.counts["offers"] += 1
        c.steps.append(_new_offer(merchant, nm, points, value))

    windows = {}
    for m in stored.values():
        for w in policy.windows(c.conn, m.merchant_id):
            windows[(m.merchant_id, w.weekdays, w.opens, w.closes)] = w
    seen_hours: dict[tuple, int] = {}
    for row in c.rows("营业时间"):
        merchant = merchant_of(row)
        days = row.get("weekdays", weekdays_of,
                       lambda v: f"营业日写法不对(本格是“{v}”);可写 每天、周一至周五、周六、周日 或 1111100")
        opens = row.get("opens", time_of, lambda v: f"时间须为 时:分,如 09:00(本格是“{v}”)")
        closes = row.get("closes", time_of, lambda v: f"时间须为 时:分,如 21:30(本格是“{v}”)")
        if opens is not None and closes is not None and opens >= closes:
            row.problem("closes", f"结束时间 {closes} 须晚于开始时间 {opens}")
            closes = None
        place = row.get("place", text, "") or ""
        if len(place) > 60:
            row.problem("place", "兑换地点不能超过60个字")
        if merchant is None or days is None or opens is None or closes is None:
            continue
        key = (_key(merchant), days, opens, closes)
        if key in seen_hours:
            row.problem("weekdays", f"与第 {seen_hours[key]} 行重复(同一商户的同一时段)")
            continue
        seen_hours[key] = row.number
        if row.bad:
            continue
        m = stored.get(_key(merchant))
        w = windows.get((m.merchant_id, days, opens, closes)) if m else None
        if w is not None:
            if place and place != w.place:
                row.problem("place", f"“{merchant}”已有这个时段,兑换地点是“{w.place}”,与本行不同;{_NO_EDIT}")
            else:
                c.counts["windows_existing"] += 1
            continue
        c.counts["windows"] += 1
        c.steps.append(_new_window(merchant, days, opens, closes, place or merchant))


def _compound_name(c: _Check, compound_id: int | None) -> str:
    return next((cp.name for cp in community.compounds(c.conn) if cp.compound_id == compound_id), "未填")


def _merchant_id(w: "_Writer", merchant: str) -> int:
    if _key(merchant) not in w.merchants:
        w.merchants.update({_key(m.name): m.merchant_id for m in merchants.all_merchants(w.conn)})
    return w.merchants[_key(merchant)]


def _new_merchant(nm: str, category: str, compound_id: int | None, address: str):
    def step(w: _Writer) -> None:
        w.merchants[_key(nm)] = merchants.add_merchant(w.conn, nm, category, compound_id=compound_id, address=address)
    return step


def _new_offer(merchant: str, nm: str, points: int, value_fen: int):
    def step(w: _Writer) -> None:
        merchants.add_offer(w.conn, _merchant_id(w, merchant), nm, points, value_fen)
    return step


def _new_window(merchant: str, days: str, opens: str, closes: str, place: str):
    def step(w: _Writer) -> None:
        policy.add_window(w.conn, merchant_id=_merchant_id(w, merchant), place=place, weekdays=days, opens=opens,
                          closes=closes)
    return step


_PLANNERS = {"roster": _roster, "merchants": _merchants, "balances": _balances}


def plan(conn: sqlite3.Connection, book: Book, *, now: dt.datetime | None = None,
         progress: Progress | None = None) -> Plan:
    """Check every row against the store; write nothing. The problems come in sheet and row order."""
    check = _Check(conn, book, clock.local_date(now or clock.now_utc()), progress)
    _PLANNERS[book.kind](check)
    return check.finish()


# --- writing --------------------------------------------------------------------------------------

@dataclass
class _Writer:
    conn: sqlite3.Connection
    now: dt.datetime
    recorded_by: str
    new_accounts: list[int] = field(default_factory=list)
    cards: list[str] = field(default_factory=list)
    merchants: dict[str, int] = field(default_factory=dict)


@dataclass
class Result:
    plan: Plan
    written: bool
    new_accounts: list[int] = field(default_factory=list)     # roster: the accounts opened, in file order
    cards: list[str] = field(default_factory=list)            # and their new cards
    changed: bool = False      # the store changed since the preview that was confirmed: nothing written

    def as_dict(self) -> dict:
        return {"kind": self.plan.kind, "rows": self.plan.rows, "ok": self.plan.ok, "written": self.written,
                "changed": self.changed, "counts": self.plan.counts, "summary": self.plan.summary(),
                "problems": [p.as_dict() for p in self.plan.problems], "new_accounts": self.new_accounts,
                "cards": self.cards}


def run(conn: sqlite3.Connection, book: Book, *, recorded_by: str, dry_run: bool = False,
        now: dt.datetime | None = None, progress: Progress | None = None,
        expect: dict[str, int] | None = None) -> Result:
    """Plan the import and, unless ``dry_run`` or a problem was found, write all of it in one
    transaction (or nothing). With ``expect`` (the counts a preview showed) nothing is written
    either if the plan now differs: the store changed between the preview and the confirm."""
    now = now or clock.now_utc()
    if dry_run:
        return Result(plan(conn, book, now=now, progress=progress), written=False)
    with transaction(conn):
        p = plan(conn, book, now=now, progress=progress)
        if not p.ok:
            return Result(p, written=False)
        if expect is not None and expect != p.counts:
            return Result(p, written=False, changed=True)
        w = _Writer(conn, now, recorded_by)
        if progress:
            progress.phase("写入", len(p.steps))
        for n, step in enumerate(p.steps, 1):
            step(w)
            if progress and (n % _EVERY == 0 or n == len(p.steps)):
                progress.step(n % _EVERY or _EVERY)
        return Result(p, written=True, new_accounts=w.new_accounts, cards=w.cards)


def describe(kind: str, counts: dict[str, int]) -> str:
    """What an import adds, in one Chinese sentence."""
    c = counts
    if kind == "roster":
        out = f"新开储户 {c['households']} 户(发卡 {c['cards']} 张),新增家庭成员 {c['members']} 人"
        if c["households_existing"] or c["members_existing"]:
            out += f";系统中已有、不重复导入:{c['households_existing']} 户、{c['members_existing']} 位成员"
        return out
    if kind == "merchants":
        out = f"新增商户 {c['merchants']} 家、兑换项目 {c['offers']} 项、营业时间 {c['windows']} 段"
        if c["merchants_existing"] or c["offers_existing"] or c["windows_existing"]:
            out += (f";系统中已有、不重复导入:商户 {c['merchants_existing']} 家、兑换项目 {c['offers_existing']} 项、"
                    f"营业时间 {c['windows_existing']} 段")
        return out
    out = f"期初余额 {c['adjustments']} 户,共 {c['points']} 分"
    if c["adjustments_existing"]:
        out += f";已导入过、不重复导入:{c['adjustments_existing']} 户"
    return out


# --- an upload the console previewed, kept until it is confirmed ---------------------------------

UPLOAD_MINUTES = 60


@dataclass(frozen=True)
class Upload:
    token: str
    user_id: int
    kind: str
    filename: str
    sha256: str
    content: bytes | None
    uploaded_at: str
    preview: dict
    imported_at: str | None
    result: dict | None


def stage(conn: sqlite3.Connection, *, user_id: int, kind: str, filename: str, content: bytes,
          preview: dict[str, int], now: dt.datetime | None = None) -> Upload:
    """Keep a previewed file under a new token, with its hash and the counts the preview showed,
    so that the confirm imports exactly this file (never a second upload). Old uploads' contents
    are dropped here: nobody confirms a preview a day later."""
    now = now or clock.now_utc()
    if kind not in KINDS:
        raise InvalidInput("没有这种导入。", f"unknown import kind {kind!r}")
    token = secrets.token_urlsafe(18)
    digest = hashlib.sha256(content).hexdigest()
    at = clock.to_text(now)
    with transaction(conn):
        conn.execute("UPDATE import_uploads SET content = NULL WHERE content IS NOT NULL AND uploaded_at < ?",
                     (clock.to_text(now - dt.timedelta(days=1)),))
        conn.execute("INSERT INTO import_uploads (token, user_id, kind, filename, sha256, content, uploaded_at, preview) "
                     "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                     (token, user_id, kind, filename[:200], digest, content, at, json.dumps(preview)))
    return upload(conn, token, user_id=user_id)


def upload(conn: sqlite3.Connection, token: str, *, user_id: int) -> Upload:
    row = conn.execute("SELECT token, user_id, kind, filename, sha256, content, uploaded_at, preview, imported_at, "
                       "result FROM import_uploads WHERE token = ? AND user_id = ?", (token, user_id)).fetchone()
    if row is None:
        raise InvalidInput("找不到这次上传的文件,请重新上传。", "no such upload for this user")
    return Upload(row[0], row[1], row[2], row[3], row[4], None if row[5] is None else bytes(row[5]), row[6],
                  json.loads(row[7]), row[8], json.loads(row[9]) if row[9] else None)


def confirmable(conn: sqlite3.Connection, token: str, *, user_id: int, sha256: str,
                now: dt.datetime | None = None) -> Upload:
    """The staged upload a confirm names, if it is the previewed file and may still be imported."""
    now = now or clock.now_utc()
    u = upload(conn, token, user_id=user_id)
    if u.imported_at is not None:
        raise InvalidInput("这个文件已经导入过了。", "this upload was already imported")
    if u.content is None or clock.from_text(u.uploaded_at) < now - dt.timedelta(minutes=UPLOAD_MINUTES):
        raise InvalidInput(f"预览已超过{UPLOAD_MINUTES}分钟,请重新上传并预览。", "the preview has expired")
    if not secrets.compare_digest(u.sha256, sha256) or hashlib.sha256(u.content).hexdigest() != u.sha256:
        raise InvalidInput("确认的文件与预览的文件不一致,请重新上传并预览。", "the confirmed file is not the previewed one")
    return u


def finish(conn: sqlite3.Connection, token: str, result: dict, *, now: dt.datetime | None = None) -> None:
    """Mark a staged upload imported (its content is no longer kept) and keep what it added."""
    done = conn.execute("UPDATE import_uploads SET imported_at = ?, result = ?, content = NULL "
                        "WHERE token = ? AND imported_at IS NULL",
                        (clock.to_text(now or clock.now_utc()), json.dumps(result, ensure_ascii=False), token)).rowcount
    if done != 1:
        raise InvalidInput("这个文件已经导入过了。", "this upload was already imported")
