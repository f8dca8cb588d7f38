"""Local development servers: a real single-node Kafka and Cassandra, fetched and run by us.

No Docker and no JDK needed: the jars come from Maven Central through ``mvn`` into a cache
directory once (``toolchain`` brings java and mvn when they are missing), and the servers
run as plain ``java`` processes on 127.0.0.1 with small heaps. ``streamcore dev`` and the
test fixtures drive this package.
"""

from streamcore.dev.layout import DevSettings
from streamcore.dev.servers import DevServers, ServerStatus

__all__ = ["DevServers", "DevSettings", "ServerStatus"]
