"""Stage 1, letters to rows: text extraction, one parser per letter layout, ingest."""
