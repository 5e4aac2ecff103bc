"""The domain: pure Python values and entities in the field's own words.

Nothing here imports a framework, a database or the wall clock; time is always an argument.
"""
