"""The matching engine: turns a company's need into ranked catalogue entries.

Nothing here imports Rasa. Heavy objects (the embedding model, the FAISS index)
are created by the caller and passed in; importing this package is cheap.
"""
