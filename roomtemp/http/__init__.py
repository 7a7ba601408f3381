"""The HTTP face of roomtemp: FastAPI app, routes, wire schemas and problem+json errors."""
