"""The rules of temperatures, timestamps and windows; imports nothing else from roomtemp."""
