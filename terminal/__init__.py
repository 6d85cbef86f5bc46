"""The merchant tablet (商户平板): command line now, the Kivy app in a later issue."""

WIDTH, HEIGHT = 1280, 800   # the reference 10-inch tablet in landscape (windows, screenshots, UI tests)
