"""HTTP ↔ models: the only importer of httpx, and the only code that writes to PB."""
