"""
Executables for running the platform.
"""
