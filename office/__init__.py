"""The community office: the store of record, its sync API, the council's console and the command line."""
