"""Who recorded a ledger entry: the text stored with it (``recorded_by``) and the label a person
reads. Every writer makes the stored text here and every screen, sheet and command shows
:func:`label` of it, so an entry reads the same on the console, the kiosk and the command line.

The stored forms (older stores hold them too): ``评议小组成员:张三;复核:李四`` (a review-group
member, with the second member who confirmed), ``社区办公室:王主任`` / ``道德评议会:李委员`` (a
console user by role), ``device:T3`` (a device's own event), ``device:K1;放行:王主任`` (a
quarantined event the council let through), ``system:expiry`` (the expiry run), ``merchant:5``
(redemptions of early demo stores). A bare name is shown as it is.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from . import accounts

ROLE_LABELS = {"office": "社区办公室", "council": "道德评议会", "reviewer": "评议小组成员"}
REVIEWER = ROLE_LABELS["reviewer"]
EXPIRY = "system:expiry"
# What the office's command line records as (its user is whoever runs it at the office).
COMMAND_LINE = f"{ROLE_LABELS['office']}:命令行"

_SECOND, _RELEASED = ";复核:", ";放行:"
_SYSTEM = {"expiry": "系统(积分到期)"}


def of_user(role: str, name: str, second: str | None = None) -> str:
    """A console user (office, council or review-group member), with the second member who
    confirmed a weighty entry."""
    return f"{ROLE_LABELS[role]}:{name}" + (f"{_SECOND}{second}" if second else "")


def of_member(name: str, second: str | None = None) -> str:
    """A review-group member recording at a kiosk."""
    return of_user("reviewer", name, second)


def of_device(device_id: str, released_by: str | None = None) -> str:
    """A device's own event; ``released_by`` the council member who let a quarantined one through."""
    return f"device:{device_id}" + (f"{_RELEASED}{released_by}" if released_by else "")


_LABELLED_NAME = re.compile(r"(成员|复核|评议员)([::])([^;;:: ]{2,8})")


def masked(recorded_by: str) -> str:
    """The stored text with the members' names masked (评议小组成员:张*明;复核:李*): what devices
    get, which hold no full names, and what a resident's printed passbook shows."""
    return _LABELLED_NAME.sub(lambda m: m.group(1) + m.group(2) + accounts.mask_name(m.group(3)), recorded_by or "")


def label(recorded_by: str, *, mask: bool = False, merchants: Mapping[int, str] | None = None) -> str:
    """The label a person reads: ``评议小组成员 张三(复核:李四)``, ``设备 T3``, ``系统(积分到期)``;
    with ``mask`` the members' names masked (:func:`masked`), with ``merchants`` (id -> name) a
    merchant's redemption named by the shop."""
    text = masked(recorded_by) if mask else recorded_by or ""
    extra = ""
    for marker, word in ((_SECOND, "复核"), (_RELEASED, "放行")):
        if marker in text:
            text, _, who = text.partition(marker)
            extra = f"({word}:{who})"
    kind, sep, who = text.partition(":")
    if not sep:
        return text + extra
    if kind == "device":
        return f"设备 {who}{extra}"
    if kind == "merchant":
        name = (merchants or {}).get(int(who)) if who.isdigit() else None
        return (name or f"商户 {who}") + extra
    if kind == "system":
        return _SYSTEM.get(who, "系统") + extra
    return f"{kind} {who}{extra}"
