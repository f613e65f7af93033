"""Rasa custom actions. Thin: read slots, call the engine or the request store, return events.

Actions get the engine and the store through their constructors; nothing is loaded at import.
"""
