"""The wire between devices and the office: signed chained device events, push and pull, both ends."""
