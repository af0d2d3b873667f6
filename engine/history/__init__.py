"""Reading the history for auditors (import the part you need):

- `search`: filters and keyset pages of events, and an event as the API shows it;
- `export`: streamed CSV and JSON Lines exports, recorded as events;
- `timeline`: a case's life from its events;
- `hashing`: the text an event's hash is made of, and the hash (the append and the
  checks of engine/audit.py use it).

Masking personal data in what they show is `engine.privacy`'s.
"""
