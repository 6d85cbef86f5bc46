"""The merchant tablet (商户平板): the Kivy app that redeems points at a shop, and its command line."""

WIDTH, HEIGHT = 1280, 800   # the reference 10-inch tablet in landscape (windows, screenshots, UI tests)
