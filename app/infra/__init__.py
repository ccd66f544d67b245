"""Real infrastructure started by the project itself: Apache Kafka (KRaft) and PostgreSQL, on 127.0.0.1."""
