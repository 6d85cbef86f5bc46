"""The domain of the Moral Points Bank: accounts, cards, the convention, the ledger.

Pure Python over SQLite: nothing here imports Kivy, an HTTP stack or a camera.
"""
