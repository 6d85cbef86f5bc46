"""Office ingest and pull benchmark (``python -m bench.ingest``)."""
