"""Sync: last sync, events waiting, refusals from the office, offline limits left, "sync now"."""

from kivy.properties import StringProperty

from .base import FlowScreen, load_kv

load_kv(__file__)


class SyncScreen(FlowScreen):
    details = StringProperty("")
    rejected = StringProperty("")

    def refresh(self) -> None:
        app, flow = self.app, self.flow
        s = flow.status()
        tr = app.tr
        last = s["last_sync_at"]
        if last is not None:
            from bank import clock
            last = clock.local(clock.from_text(last)).strftime("%Y-%m-%d %H:%M")
        lines = [
            tr("上次同步:{at}").format(at=last or tr("从未")),
            tr("待上传:{n} 条,共 {points} 分").format(n=s["pending_events"], points=s["pending_points"]),
            tr("离线还可兑换:{points} 分(未上传上限)").format(points=s["unsynced_points_left"]),
            tr("距离必须同步:{hours} 小时").format(hours=s["sync_hours_left"] if s["sync_hours_left"] is not None else "—"),
            tr("每卡每日上限 {cap} 分;单笔超过 {floor} 分需要联网").format(cap=s["per_card_daily_cap"],
                                                                   floor=s["floor_limit"]),
        ]
        self.details = "\n".join(lines)
        state = flow.syncer.state if flow.syncer else None
        problems = []
        fault = flow.fault_message()
        if fault is not None:
            problems.append(app.render(fault))
        if state is not None and state.last_error and fault is None:
            problems.append(state.last_error[0] if app.lang == "zh" else state.last_error[1])
        problems += [(zh if app.lang == "zh" else en) for _code, zh, en in (state.rejected if state else ())]
        self.rejected = "\n".join(problems)
