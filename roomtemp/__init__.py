"""roomtemp: stores room temperature measurements and answers questions about them."""

from importlib.metadata import version

__version__ = version("roomtemp")
