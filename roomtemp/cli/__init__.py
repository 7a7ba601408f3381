"""The `roomtemp` command (main.py): serve, migrate and token act on the database; simulate,
import and export are clients of a running server over HTTP and never touch storage."""
