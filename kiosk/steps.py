"""The kiosk's screens as the flow's steps, and how much of a list a page of each holds (every list
a screen shows is paged with big buttons, none is cut short)."""

from __future__ import annotations

import enum

IDLE_SECONDS = 30            # residents: back to the attract screen, nothing of theirs left
STAFF_IDLE_SECONDS = 120     # members choose items and notes; still logged out when they walk away
PAGE_SIZE = 5                # passbook, month and objection rows per page: big rows, paging by tap
SMALL_PAGE_SIZE = 3          # the same on the 800-pixel-high kiosk model, with room for a message
SMALL_HEIGHT = 1000          # a window lower than this is the small kiosk model
SHOPS_PER_PAGE = 12          # 到哪里兑换: a kind of shop's shops as big buttons, four rows of three
SHOP_KINDS_PER_PAGE = 15     # the kinds of shop, three a row: all of them on one page
BOARD_ROWS_PER_PAGE = 5      # red and black boards side by side: five places of each per page
POSTING_ROWS_PER_PAGE = 5    # the posting has its own tab: five households per page, one line each
POSTINGS_PER_PAGE = 3        # more than one posting (a quarter's and the year's): big buttons to choose from
CONVENTION_ITEMS_PER_PAGE = 4   # the convention: one product per page, four of its items at a time
STAFF_ITEMS_PER_PAGE = 4     # staff: one product's items per page, two rows of two big buttons
FIND_CHOICES_PER_PAGE = 8    # staff: buildings, units or households, two rows of four buttons
TIP_CHOICES_PER_PAGE = 9     # 举报: the categories, then the buildings, three rows of three buttons
BOARD_TABS = ("boards", "posting")   # the two big tabs of the 红黑榜 / 本小区公示 screen
LANGUAGES = ("zh", "en")     # Chinese first: the kiosk goes back to it when the resident leaves


class Step(enum.StrEnum):
    ATTRACT = "attract"
    HOME = "home"
    PASSBOOK = "passbook"
    PIN = "pin"
    CONVENTION = "convention"
    REDEEM = "redeem"
    BOARDS = "boards"
    OBJECT = "object"
    TIP = "tip"
    STAFF_PIN = "staff_pin"
    STAFF_FIND = "staff_find"
    STAFF_ITEMS = "staff_items"
    STAFF_CONFIRM = "staff_confirm"
    STAFF_MONTH = "staff_month"


RESIDENT_STEPS = {Step.HOME, Step.PASSBOOK, Step.PIN, Step.CONVENTION, Step.REDEEM, Step.BOARDS, Step.OBJECT,
                  Step.TIP}
STAFF_STEPS = {Step.STAFF_PIN, Step.STAFF_FIND, Step.STAFF_ITEMS, Step.STAFF_CONFIRM, Step.STAFF_MONTH}

