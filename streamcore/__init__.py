"""streamcore: DP³'s entity-profile processing on Apache Kafka and Apache Cassandra."""

__version__ = "0.1.0"
