"""A small command library with a test client, as many libraries ship one.

Its test client leaks on every call, the way a popular library's did: a stream wrapper
cached per stream in a WeakKeyDictionary whose values hold their keys.
"""
