"""The merchant tablet (商户平板): command line now, the Kivy app in a later issue."""
