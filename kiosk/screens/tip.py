"""举报: an anonymous tip chosen from lists, no typing: what happened (the categories the office
knows), then the building it happened at or 不指定楼栋 (first on the list: three taps from the
home screen); the chosen category is a button that chooses again."""

from kivy.properties import StringProperty

from kiosk import tips
from device.flowkit import N_

from .base import KioskScreen, load_kv

load_kv(__file__)

# The category names are the office's (bank.tips.CATEGORIES, stored in Chinese); marked here so
# the English catalog has them.
CATEGORY_NAMES = (N_("乱扔垃圾、随地吐痰"), N_("噪音扰民、深夜喧哗"), N_("占用楼道、私搭乱建"), N_("高空抛物"),
                  N_("不文明养犬"), N_("打架斗殴、辱骂邻居"), N_("不赡养老人、家庭暴力"), N_("其他不文明行为"))


class TipScreen(KioskScreen):
    prompt = StringProperty("")
    category_text = StringProperty("")

    def refresh(self) -> None:
        flow = self.flow
        choices = flow.tip_choices()
        self.ids.pager.show(flow, len(choices), self.tr)
        box = self.ids.choices
        box.clear_widgets()
        if flow.tip_category is None:
            self.prompt, self.category_text = self.tr("我要举报:请选择是什么事情"), ""
            for code, name in flow.page_of(choices):
                box.add_widget(self.button(self.tr(name), "choose_tip_category", code, kind="KSecondary"))
            return
        name = dict(tips.tip_categories()).get(flow.tip_category, "")
        self.prompt = self.tr("在哪一栋?")
        self.category_text = self.tr(N_("{} · 重选")).format(self.tr(name))
        for building in flow.page_of(choices):
            text = self.tr("不指定楼栋") if building is None else self.tr(N_("{}栋")).format(building)
            box.add_widget(self.button(text, "send_tip", building, kind="KSecondary"))
