"""Commands that talk to a running roomtemp server over HTTP, as any other client would:
simulate, import, export. Nothing here touches storage."""
