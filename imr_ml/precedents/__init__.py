"""Precedents: the past decisions most like a request, and a search over an archive of them.

An index (`store`) keeps every indexed item's pre-decision text and profile for matching and
its outcome for display; `similar` finds and ranks the precedents of one request by the same
service, body region and decisive findings (`profile`), not words alone; `search` is full-text
search with filters. The words are SQLite FTS5's (`terms`)."""
