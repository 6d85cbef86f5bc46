"""Why the kiosk refuses: every reason its engine gives, each a Chinese and an English sentence.

One table for the whole kiosk (residents, objections, tips, staff entries), so a screen and a test
decide on the stable code, never on the text.
"""

from __future__ import annotations

from bank.errors import ReasonedRefusal

REASONS: dict[str, tuple[str, str]] = {
    "not_synced": ("本机还没有从社区办公室同步过数据,请稍后再试。", "This kiosk has never synced with the office."),
    "not_this_compound": ("这张卡不是本小区的,请到所在小区的服务点查询。",
                          "This card belongs to another compound; please use that compound's kiosk."),
    "unknown_card": ("本机没有这张卡的资料,请到社区办公室查询。", "This kiosk has no record of this card."),
    "not_staff": ("这不是本小区评议小组成员的工作卡。", "This is not a staff card of this compound's review group."),
    "pin_wrong": ("密码不正确,还可以再试 {left} 次。", "The PIN is wrong; {left} tries left."),
    "pin_locked": ("密码错误次数过多,请 {minutes} 分钟后再试。", "Too many wrong PINs: try again in {minutes} minutes."),
    "staff_offline": ("评议员模式需要联网:现在无法连接社区办公室,请稍后再试。",
                      "Staff mode needs the office online; it cannot be reached now."),
    "pin_offline": ("查看扣分明细需要联网核对密码,现在无法连接社区办公室。",
                    "The office must check the PIN online to show the details; it cannot be reached."),
    "recusal": ("不能为自己家庭记分,请由其他成员办理。", "You cannot record for your own household; ask another member."),
    "cap_reached": ("“{item}”{cap_text},本期已记满。", "'{item}' is capped ({cap} per period) and already full."),
    "account_inactive": ("该储户账户已暂停或销户,不能记分。", "The account is suspended or closed."),
    "needs_second": ("这一条超过 {above} 分,需要另一位成员刷卡确认。",
                     "Entries over {above} points need a second member's confirmation."),
    "second_invalid": ("确认人须是本小组的另一位成员,且不是这户的家人。",
                       "The confirming member must be another member, not of this household."),
    "posting_closed": ("现在不在公示期内,不能提出异议。", "No posting period is open now; objections are closed."),
    "not_objectable": ("这条记录不能提出异议。", "This entry cannot be objected to."),
    "already_objected": ("这条记录已经提出过异议。", "This entry already has an objection."),
    "undo_not_allowed": ("只能撤销自己今天记录的加扣分。", "You can only undo your own entries of today."),
    "unknown_item": ("积分细则中没有这一项。", "No such rule item."),
    "bad_note": ("备注不能超过200个字。", "The note is limited to 200 characters."),
    "bad_tip": ("请从列表中选择举报的类别和楼栋。", "Choose the kind of report and the building from the lists."),
}


class Refusal(ReasonedRefusal):
    REASONS = REASONS
