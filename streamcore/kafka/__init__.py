"""Everything that talks to Kafka. The only package that imports ``confluent_kafka``."""
