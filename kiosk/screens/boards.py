"""Boards and postings: this quarter's red and black boards and the current posting, names masked."""

from device import kiosk as engine
from kiosk import style

from .base import KioskScreen, load_kv

load_kv(__file__)


class BoardsScreen(KioskScreen):
    def refresh(self) -> None:
        conn = self.flow.conn
        b = engine.boards(conn)
        self.ids.title.text = self.tr("{period}红黑榜").format(period=b.get("label", ""))
        grid = self.ids.board
        grid.clear_widgets()
        grid.add_widget(self.text(self.tr("红榜 · 加分最多"), kind="KLarge", bold=True, bg=style.RED_BOARD,
                                  color=style.ON_PRIMARY, halign="center"))
        grid.add_widget(self.text(self.tr("黑榜 · 扣分最多"), kind="KLarge", bold=True, bg=style.BLACK_BOARD,
                                  color=style.ON_PRIMARY, halign="center"))
        red = [f"{i}. {n}  {bu}栋{u}单元  +{pts}" for i, (n, bu, u, pts) in enumerate(b["red"][:8], 1)]
        black = [f"{i}. {n}  {bu}栋{u}单元  -{pts}" for i, (n, bu, u, pts) in enumerate(b["black"][:8], 1)]
        for i in range(max(len(red), len(black), 1)):
            grid.add_widget(self.text(red[i] if i < len(red) else (self.tr("(暂无)") if i == 0 else " ")))
            grid.add_widget(self.text(black[i] if i < len(black) else (self.tr("(暂无)") if i == 0 else " ")))
        post = self.ids.posting
        post.clear_widgets()
        p = engine.posting(conn)
        rows = self.flow.posting_rows()
        self.ids.pager.show(self.flow, len(rows), self.tr)
        if p is None:
            post.add_widget(self.text(self.tr("目前没有公示。")))
            return
        post.add_widget(self.text(self.tr("{label}积分公示:{opens} 至 {closes}").format(
            label=p["label"], opens=p["opens_on"], closes=p["closes_on"]), kind="KLarge", bold=True))
        for _aid, name, building, unit, awarded, deducted, redeemed, balance in self.flow.page_of(rows):
            post.add_widget(self.text(self.tr("{name} {building}栋{unit}单元  加{a} 扣{d} 兑{r} 余{b}").format(
                name=name, building=building, unit=unit, a=awarded, d=deducted, r=redeemed, b=balance)))
        post.add_widget(self.text(self.tr("共 {n} 户。").format(n=len(rows)), color=style.MUTED))
