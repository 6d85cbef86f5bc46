"""Boards and postings: two tabs, this quarter's red and black boards and the compound's postings
(names masked), each paged with the big 上一页/下一页 buttons: nothing to scroll, nothing cut off.
With more than one posting (a quarter's and the year's, or one open and one to come) the posting
tab first lists them to choose from; a posting opens at the resident's own household."""

from kivy.properties import BooleanProperty, StringProperty

from kiosk import residents, style

from .base import KioskScreen, load_kv

load_kv(__file__)

POSTING_COLUMNS = (0.26, 0.26, 0.12, 0.12, 0.12, 0.12)   # name, home, awarded, deducted, redeemed, balance


class BoardsScreen(KioskScreen):
    tab = StringProperty("boards")
    other_postings = BooleanProperty(False)     # the 全部公示 button: back to the list of postings

    def refresh(self) -> None:
        flow = self.flow
        self.tab = flow.board_tab
        grid = self.ids.rows
        grid.clear_widgets()
        rows = flow.board_list()
        self.ids.pager.show(flow, len(rows), self.tr)
        self.other_postings = self.tab == "posting" and flow.posting() is not None and len(flow.postings()) > 1
        if self.tab == "boards":
            self._boards(grid, flow.page_of(rows))
        elif flow.posting() is None:
            self._postings(grid, flow.page_of(rows))
        else:
            self._posting(grid, rows, flow.page_of(rows))

    def _boards(self, grid, page) -> None:
        b = residents.boards(self.flow.conn)
        self.ids.title.text = self.tr("{period}红黑榜").format(period=b.get("label", ""))
        grid.cols = 2
        grid.add_widget(self.text(self.tr("红榜 · 加分最多"), kind="KLarge", bold=True, bg=style.RED_BOARD,
                                  color=style.ON_PRIMARY, halign="center"))
        grid.add_widget(self.text(self.tr("黑榜 · 扣分最多"), kind="KLarge", bold=True, bg=style.BLACK_BOARD,
                                  color=style.ON_PRIMARY, halign="center"))
        if not page:
            grid.add_widget(self.text(self.tr("(暂无)")))
            grid.add_widget(self.text(self.tr("(暂无)")))
        for place, red, black in page:
            for entry, sign in ((red, "+"), (black, "-")):
                if entry is None:
                    grid.add_widget(self.text(" "))
                else:
                    name, building, unit, points = entry
                    grid.add_widget(self.text(self.tr("{place}. {name}  {building}栋{unit}单元  {points}").format(
                        place=place, name=name, building=building, unit=unit, points=f"{sign}{points}")))

    def _state(self, p) -> str:
        if self.flow.today().isoformat() >= p["opens_on"]:
            return self.tr("公示中,可以提出异议")
        return self.tr("{opens} 开始公示").format(opens=p["opens_on"])

    def _postings(self, grid, page) -> None:
        """The compound's postings as big buttons (none: say so)."""
        grid.cols = 1
        if not page:
            self.ids.title.text = self.tr("目前没有公示。")
            return
        self.ids.title.text = self.tr("本小区有 {n} 个公示,请选择要看的一个:").format(n=len(self.flow.postings()))
        for p in page:
            grid.add_widget(self.button(self.tr("{label}积分公示:{opens} 至 {closes}").format(
                label=p["label"], opens=p["opens_on"], closes=p["closes_on"]) + "\n" + self._state(p),
                "choose_posting", p["posting_id"], kind="KSecondary"))

    def _posting(self, grid, rows, page) -> None:
        flow = self.flow
        p = flow.posting()
        self.ids.title.text = self.tr("{label}积分公示:{opens} 至 {closes}").format(
            label=p["label"], opens=p["opens_on"], closes=p["closes_on"])
        grid.cols = len(POSTING_COLUMNS)
        heads = (self.tr("住户(共 {n} 户)").format(n=len(rows)), self.tr("楼栋单元"), self.tr("加分"),
                 self.tr("扣分"), self.tr("兑换"), self.tr("余额"))
        for head, width in zip(heads, POSTING_COLUMNS):
            grid.add_widget(self.text(head, bold=True, color=style.ON_PRIMARY, bg=style.ACCENT, size_hint_x=width,
                                      halign="left" if width > 0.2 else "right"))
        own = flow.account.account_id if flow.account else None
        for aid, name, building, unit, awarded, deducted, redeemed, balance in page:
            mine = aid == own          # the resident's own household: marked, the page opens at it
            cells = (self.tr("{name}(您家)").format(name=name) if mine else name,
                     self.tr("{building}栋{unit}单元").format(building=building, unit=unit),
                     awarded, deducted, redeemed, balance)
            for cell, width in zip(cells, POSTING_COLUMNS):
                grid.add_widget(self.text(str(cell), size_hint_x=width, halign="left" if width > 0.2 else "right",
                                          bold=mine, bg=style.QUIET if mine else style.BACKGROUND))
