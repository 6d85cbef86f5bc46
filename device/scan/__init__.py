"""Camera frames to a verified card: QR decoding, effort across frames, card verification.

``decoder`` (frame -> QR texts), ``tracker`` (frames -> one event per card shown),
``verify`` (text -> Verified or Refused); ``python -m device.scan`` is the command line.
"""
