"""The protocol both ends share: wire format, signed chained device events, the device's client, home and replica."""
