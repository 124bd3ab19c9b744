"""Pingan (平安): district comprehensive public-safety governance platform."""

__version__ = "0.1.0"
