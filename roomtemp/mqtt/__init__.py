"""MQTT ingestion: an adapter that subscribes to a broker and feeds the write path."""
