"""Camera frames to a verified card: QR decoding, effort across frames, card verification."""
