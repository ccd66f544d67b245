"""Apache Kafka in KRaft mode from its official jars on Maven Central, run with the machine's Java.

The jars are fetched once with Maven into the cache folder (``LIS_CACHE_DIR``, default ``~/.cache/lis``). One broker
serves development and most tests; ``KafkaCluster.start(brokers=3)`` gives a replicated cluster for failover tests.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from app.infra.ports import cache_dir, cached_install, free_ports, wait_for_port

KAFKA_VERSION = "3.9.1"
SCALA_VERSION = "2.13"

_POM = f"""<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>lis.local</groupId><artifactId>kafka-runtime</artifactId><version>1</version><packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_{SCALA_VERSION}</artifactId>
      <version>{KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>1.7.36</version></dependency>
  </dependencies>
</project>
"""

_LOG4J = """log4j.rootLogger=WARN, stdout
log4j.appender.stdout=org.apache.log4j.ConsoleAppender
log4j.appender.stdout.layout=org.apache.log4j.PatternLayout
log4j.appender.stdout.layout.ConversionPattern=[%d] %p %m (%c)%n
"""


def kafka_libs() -> Path:
    """The folder of Kafka's runtime jars, fetching them with Maven the first time."""
    return cached_install(cache_dir() / f"kafka_{SCALA_VERSION}-{KAFKA_VERSION}" / "libs", _fetch_kafka_jars)


def _fetch_kafka_jars(libs: Path) -> None:
    print(f"fetching Apache Kafka {KAFKA_VERSION}'s jars from Maven Central into {libs} (once per machine)…",
          file=sys.stderr, flush=True)
    with tempfile.TemporaryDirectory() as work:
        (Path(work) / "pom.xml").write_text(_POM)
        # Maven's own log is kept back and shown only on failure; each downloaded file is counted on one line.
        maven = subprocess.Popen(
            ["mvn", "-B", "dependency:copy-dependencies", f"-DoutputDirectory={libs}", "-DincludeScope=runtime"],
            cwd=work, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        assert maven.stdout is not None
        log, downloaded = [], 0
        for line in maven.stdout:
            log.append(line)
            if line.startswith("[INFO] Downloaded from"):
                downloaded += 1
                url = line.split(": ", 1)[-1].split(" ", 1)[0]  # [INFO] Downloaded from central: <url> (3 kB at …)
                _progress(f"  {downloaded} files downloaded ({url.rsplit('/', 1)[-1]})")
        if maven.wait() != 0:
            sys.stderr.write("".join(log[-40:]))
            raise subprocess.CalledProcessError(maven.returncode, maven.args)
        _progress(f"  {len(list(libs.glob('*.jar')))} jars in place", done=True)


def _progress(text: str, *, done: bool = False) -> None:
    """One line that updates in place on a terminal; only the last line elsewhere (CI logs)."""
    if sys.stderr.isatty():
        sys.stderr.write(f"\r\x1b[2K{text[:100]}" + ("\n" if done else ""))
    elif done:
        sys.stderr.write(text + "\n")
    sys.stderr.flush()


@dataclass
class Broker:
    node_id: int
    port: int
    controller_port: int
    log_dir: Path
    config: Path
    process: subprocess.Popen[bytes] | None = None

    def is_running(self) -> bool:
        return self.process is not None and self.process.poll() is None


@dataclass
class KafkaCluster:
    """A running KRaft cluster on 127.0.0.1 whose brokers can be stopped and started again (chaos tests)."""

    root: Path
    libs: Path
    brokers: list[Broker] = field(default_factory=list)

    @property
    def bootstrap_servers(self) -> str:
        return ",".join(f"127.0.0.1:{b.port}" for b in self.brokers)

    @classmethod
    def start(cls, *, brokers: int = 1, partitions: int = 4, root: Path | None = None) -> KafkaCluster:
        """Format storage and start ``brokers`` combined broker+controller nodes; returns once all listen."""
        libs = kafka_libs()
        root = root or Path(tempfile.mkdtemp(prefix="lis-kafka-"))
        root.mkdir(parents=True, exist_ok=True)
        cluster = cls(root=root, libs=libs)
        ports = free_ports(2 * brokers)
        nodes = [(i + 1, ports[2 * i], ports[2 * i + 1]) for i in range(brokers)]
        voters = ",".join(f"{n}@127.0.0.1:{c}" for n, _, c in nodes)
        replication = min(3, brokers)
        cluster_id = cls._java(libs, "kafka.tools.StorageTool", "random-uuid").strip() or uuid.uuid4().hex[:22]
        (root / "log4j.properties").write_text(_LOG4J)
        for node_id, port, controller_port in nodes:
            log_dir = root / f"node-{node_id}"
            config = root / f"server-{node_id}.properties"
            properties = _server_properties(node_id, port, controller_port, voters, log_dir, partitions, replication)
            config.write_text(properties)
            cls._java(libs, "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(config))
            cluster.brokers.append(Broker(node_id, port, controller_port, log_dir, config))
        for broker in cluster.brokers:
            cluster.start_broker(broker.node_id, wait=False)
        for broker in cluster.brokers:
            wait_for_port(broker.port, 90, what=f"Kafka broker {broker.node_id}")
        return cluster

    def start_broker(self, node_id: int, *, wait: bool = True) -> None:
        broker = self._broker(node_id)
        log = open(self.root / f"broker-{node_id}.log", "ab")  # noqa: SIM115 - owned by the child process
        broker.process = subprocess.Popen(
            [
                "java", "-Xms128m", "-Xmx512m", "-XX:+UseSerialGC", "-Djava.awt.headless=true",
                f"-Dlog4j.configuration=file:{self.root / 'log4j.properties'}",
                "-cp", f"{self.libs}/*", "kafka.Kafka", str(broker.config),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if wait:
            wait_for_port(broker.port, 90, what=f"Kafka broker {node_id}")

    def stop_broker(self, node_id: int, *, kill: bool = False) -> None:
        broker = self._broker(node_id)
        if broker.process is None:
            return
        if kill:
            broker.process.kill()
        else:
            broker.process.terminate()
        try:
            broker.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            broker.process.kill()
            broker.process.wait()
        broker.process = None

    def stop(self, *, remove: bool = True) -> None:
        """Stop every broker (in reverse, so controllers leave last) and delete the data."""
        for broker in reversed(self.brokers):
            self.stop_broker(broker.node_id)
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)

    def _broker(self, node_id: int) -> Broker:
        return next(b for b in self.brokers if b.node_id == node_id)

    @staticmethod
    def _java(libs: Path, main: str, *args: str) -> str:
        result = subprocess.run(
            ["java", "-Xmx256m", "-cp", f"{libs}/*", main, *args], check=True, capture_output=True, text=True
        )
        return result.stdout


def _server_properties(
    node_id: int, port: int, controller_port: int, voters: str, log_dir: Path, partitions: int, replication: int
) -> str:
    return "\n".join(
        [
            "process.roles=broker,controller",
            f"node.id={node_id}",
            f"controller.quorum.voters={voters}",
            f"listeners=PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller_port}",
            f"advertised.listeners=PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names=CONTROLLER",
            "listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "inter.broker.listener.name=PLAINTEXT",
            f"log.dirs={log_dir}",
            f"num.partitions={partitions}",
            f"default.replication.factor={replication}",
            f"offsets.topic.replication.factor={replication}",
            f"transaction.state.log.replication.factor={replication}",
            f"transaction.state.log.min.isr={min(2, replication)}",
            f"min.insync.replicas={min(2, replication)}",
            "offsets.topic.num.partitions=8",
            "group.initial.rebalance.delay.ms=0",
            "auto.create.topics.enable=true",
            "log.cleaner.backoff.ms=1000",
            "",
        ]
    )
