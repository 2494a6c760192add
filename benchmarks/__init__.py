"""Boot, transfer, action-latency, memory and build-time benchmarks of the built site."""
