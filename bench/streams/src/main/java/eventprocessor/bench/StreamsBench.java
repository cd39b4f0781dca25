package eventprocessor.bench;

import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
import org.apache.kafka.common.utils.AppInfoParser;
import org.apache.kafka.streams.KafkaStreams;
import org.apache.kafka.streams.StreamsConfig;
import org.apache.kafka.streams.Topology;
import org.apache.kafka.streams.processor.api.Processor;
import org.apache.kafka.streams.processor.api.ProcessorContext;
import org.apache.kafka.streams.processor.api.Record;
import org.apache.kafka.streams.processor.api.RecordMetadata;

/**
 * event-processor's job on Kafka Streams, for the side-by-side benchmark:
 * every input record becomes one enriched event on the output topic or one
 * error event on the error topic, with the processor's bytes, keys and
 * provenance headers (Router), under processing.guarantee=exactly_once_v2.
 *
 * <pre>
 * java -jar streams-bench.jar --bootstrap 127.0.0.1:9092 --input in --output out \
 *     --error err --application-id app [--threads 1] [--commit-interval-ms 100] \
 *     [--pipeline-name event-processor] [--max-record-bytes 1000000] [--tuned]
 * </pre>
 *
 * <p>Without --tuned it is Kafka Streams with its defaults and Jackson's
 * tree model. With --tuned, the client settings Kafka's and Kafka Streams'
 * documentation give for throughput and latency (see tune) and Jackson's
 * streaming parser. Either way it prints its effective configuration at
 * start, runs until SIGTERM, then closes (committing what it has) and exits.
 */
public final class StreamsBench {
  private StreamsBench() {}

  /** The processor's default --max-record-bytes (the broker's default message.max.bytes, rounded down). */
  static final int DEFAULT_MAX_RECORD_BYTES = 1_000_000;

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new HashMap<>();
    boolean tuned = false;
    for (int i = 0; i < args.length; i++) {
      if (args[i].equals("--tuned")) {
        tuned = true;
        continue;
      }
      if (!args[i].startsWith("--") || i + 1 >= args.length) {
        throw new IllegalArgumentException("expected --tuned or --name value pairs, got " + args[i]);
      }
      a.put(args[i].substring(2), args[++i]);
    }
    String input = required(a, "input");
    String output = required(a, "output");
    String error = required(a, "error");
    String bootstrap = required(a, "bootstrap");
    String pipeline = a.getOrDefault("pipeline-name", Contract.DEFAULT_PIPELINE_NAME);
    int maxRecordBytes = Integer.parseInt(a.getOrDefault("max-record-bytes", Integer.toString(DEFAULT_MAX_RECORD_BYTES)));

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, required(a, "application-id"));
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, a.getOrDefault("commit-interval-ms", "100"));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, a.getOrDefault("threads", "1"));
    props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("streams-bench").toString());
    props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    props.put(StreamsConfig.consumerPrefix(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG), "earliest");
    if (tuned) {
      tune(props);
    }
    EventTransform.Json json = tuned ? EventTransform.Json.STREAMING : EventTransform.Json.TREE;

    // The record size limit, read as the processor reads it, so that the
    // events are capped where its are.
    int limit = recordLimit(bootstrap, output, error, maxRecordBytes);
    new Router(pipeline, limit, json); // fail now, not in a stream thread, on bad settings
    printConfig(props, tuned, json, limit);

    Topology topology = new Topology();
    topology.addSource("input", new ByteArrayDeserializer(), new ByteArrayDeserializer(), input);
    topology.addProcessor("transform", () -> new Transform(new Router(pipeline, limit, json)), "input");
    topology.addSink("output", output, new ByteArraySerializer(), new ByteArraySerializer(), "transform");
    topology.addSink("error", error, new ByteArraySerializer(), new ByteArraySerializer(), "transform");

    KafkaStreams streams = new KafkaStreams(topology, props);
    CountDownLatch stopped = new CountDownLatch(1);
    streams.setStateListener((now, before) -> {
      System.err.println("streams-bench: state " + before + " -> " + now);
      if (now == KafkaStreams.State.ERROR || now == KafkaStreams.State.NOT_RUNNING) {
        stopped.countDown();
      }
    });
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      streams.close(Duration.ofSeconds(10));
      System.err.println("streams-bench: events made by Jackson " + EventTransform.BY_JACKSON.sum()
          + ", by the contract's scanner (errors and edge cases) " + EventTransform.BY_CONTRACT.sum());
      stopped.countDown();
    }));
    streams.start();
    stopped.await();
    if (streams.state() == KafkaStreams.State.ERROR) {
      System.exit(1);
    }
  }

  /**
   * The settings of the tuned contender: what the Kafka and Kafka Streams
   * documentation suggest for throughput and latency under exactly_once_v2,
   * each with the documented reason. Threads and the commit interval keep
   * their flags (--threads 1, --commit-interval-ms 100), which already are
   * the tuned values:
   *
   * <ul>
   *   <li>commit.interval.ms 100: the processor's transaction interval, and
   *       Kafka Streams' own default under exactly_once (Streams developer
   *       guide, "commit.interval.ms"). Under EOS a commit ends the
   *       transaction, so results become visible at most one interval late.
   *   <li>num.stream.threads 1: the benchmark machine has 2 cores shared with
   *       the broker and the load generator. The Streams guide sizes threads
   *       to the cores available to the application; one stream thread does
   *       the parsing while the producer's I/O thread, the GC and the broker
   *       use the other core. A second thread would also double the
   *       transactions (one producer per thread under exactly_once_v2), and
   *       in the measured runs of docs/benchmarks.md two threads were no
   *       faster than one.
   *   <li>No state stores, so statestore.cache.max.bytes does not apply.
   * </ul>
   */
  static void tune(Properties p) {
    // Producer. Kafka Streams overrides linger.ms to 100 (Streams guide,
    // "Default Values"), which holds records back for a whole commit
    // interval. The producer throughput guidance (Confluent, "Optimize for
    // throughput": batch.size 100000-200000, linger.ms 10-100) asks for
    // bigger batches and a linger; its lower end keeps records leaving
    // during the transaction instead of all at the commit's flush, which is
    // what latency needs.
    p.put(StreamsConfig.producerPrefix(ProducerConfig.LINGER_MS_CONFIG), "10");
    p.put(StreamsConfig.producerPrefix(ProducerConfig.BATCH_SIZE_CONFIG), "131072");
    // The same guidance's compression.type=lz4: fewer bytes through the
    // broker's log for a little CPU (the processor compresses too: its
    // client, franz-go, defaults to snappy). acks=all stays: exactly_once
    // needs it, so the guidance's acks=1 does not apply.
    p.put(StreamsConfig.producerPrefix(ProducerConfig.COMPRESSION_TYPE_CONFIG), "lz4");

    // Consumer. fetch.min.bytes stays 1, the latency guidance (Confluent,
    // "Optimize for latency"): the broker answers a fetch as soon as any
    // record is there. The throughput guidance's ~100000 would hold light
    // loads back by up to fetch.max.wait.ms (500), and on a backlog every
    // fetch is full anyway. With 1, fetch.max.wait.ms only bounds an empty
    // long poll, so it keeps its default.
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.FETCH_MIN_BYTES_CONFIG), "1");
    // max.poll.records: Streams' default 1000 (Streams guide, "Default
    // Values") is raised to the processor's 10000 records per transaction,
    // fewer polls per commit interval; buffered.records.per.partition
    // (Streams guide: the per-partition buffer that pauses fetching) is
    // raised with it so that a poll's records are not paused away.
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_POLL_RECORDS_CONFIG), "10000");
    p.put(StreamsConfig.BUFFERED_RECORDS_PER_PARTITION_CONFIG, "10000");
    // max.partition.fetch.bytes: the consumer throughput guidance (larger
    // fetches, fewer requests; Red Hat "Kafka configuration tuning",
    // consumer fetch sizes). 2 MiB per partition is twice a 10000-record
    // poll's share of three partitions, so a fetch never stops short of a
    // poll.
    p.put(StreamsConfig.consumerPrefix(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG), "2097152");
  }

  /**
   * The processor's record size limit: --max-record-bytes lowered to the
   * output and error topics' max.message.bytes (processor.RecordLimit).
   */
  static int recordLimit(String bootstrap, String output, String error, int maxRecordBytes) throws Exception {
    Properties ap = new Properties();
    ap.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    int limit = maxRecordBytes;
    try (Admin admin = Admin.create(ap)) {
      List<ConfigResource> topics = List.of(
          new ConfigResource(ConfigResource.Type.TOPIC, output), new ConfigResource(ConfigResource.Type.TOPIC, error));
      Map<ConfigResource, Config> configs = admin.describeConfigs(topics).all().get(30, TimeUnit.SECONDS);
      for (Config c : configs.values()) {
        ConfigEntry e = c.get(TopicConfig.MAX_MESSAGE_BYTES_CONFIG);
        if (e != null && e.value() != null) {
          limit = Math.min(limit, Integer.parseInt(e.value()));
        }
      }
    }
    if (limit < Router.MIN_RECORD_BYTES) {
      throw new IllegalArgumentException("record size limit " + limit
          + " bytes (--max-record-bytes or the output and error topics' max.message.bytes) is below the minimum "
          + Router.MIN_RECORD_BYTES);
    }
    return limit;
  }

  private static final String[] STREAMS_KEYS = {
    StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.COMMIT_INTERVAL_MS_CONFIG,
    StreamsConfig.NUM_STREAM_THREADS_CONFIG, StreamsConfig.BUFFERED_RECORDS_PER_PARTITION_CONFIG,
    StreamsConfig.POLL_MS_CONFIG, StreamsConfig.STATESTORE_CACHE_MAX_BYTES_CONFIG,
  };
  private static final String[] PRODUCER_KEYS = {
    ProducerConfig.ACKS_CONFIG, ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, ProducerConfig.LINGER_MS_CONFIG,
    ProducerConfig.BATCH_SIZE_CONFIG, ProducerConfig.COMPRESSION_TYPE_CONFIG,
    ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, ProducerConfig.TRANSACTION_TIMEOUT_CONFIG,
    ProducerConfig.BUFFER_MEMORY_CONFIG,
  };
  private static final String[] CONSUMER_KEYS = {
    ConsumerConfig.FETCH_MIN_BYTES_CONFIG, ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG,
    ConsumerConfig.MAX_POLL_RECORDS_CONFIG, ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG,
    ConsumerConfig.FETCH_MAX_BYTES_CONFIG, ConsumerConfig.ISOLATION_LEVEL_CONFIG,
    ConsumerConfig.AUTO_OFFSET_RESET_CONFIG,
  };

  /** Prints the configuration in effect, defaults resolved, one line per client. */
  static void printConfig(Properties props, boolean tuned, EventTransform.Json json, int limit) {
    StreamsConfig sc = new StreamsConfig(props);
    Map<String, Object> prod = new HashMap<>(sc.getProducerConfigs("streams-bench-producer"));
    prod.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    prod.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class);
    Map<String, Object> cons = new HashMap<>(
        sc.getMainConsumerConfigs(sc.getString(StreamsConfig.APPLICATION_ID_CONFIG), "streams-bench-consumer", 0));
    cons.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    cons.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class);
    Map<String, ?> pv = new ProducerConfig(prod).values();
    Map<String, ?> cv = new ConsumerConfig(cons).values();

    System.err.println("streams-bench: " + (tuned ? "tuned" : "defaults") + ", Kafka Streams "
        + AppInfoParser.getVersion() + ", JSON: Jackson " + com.fasterxml.jackson.core.json.PackageVersion.VERSION
        + (json == EventTransform.Json.TREE ? " tree model" : " streaming parser")
        + ", record size limit " + limit + " bytes");
    System.err.println("streams-bench: streams " + line(sc.values(), STREAMS_KEYS));
    System.err.println("streams-bench: producer " + line(pv, PRODUCER_KEYS));
    System.err.println("streams-bench: consumer " + line(cv, CONSUMER_KEYS));
  }

  private static String line(Map<String, ?> values, String[] keys) {
    List<String> parts = new ArrayList<>();
    for (String k : keys) {
      parts.add(k + "=" + values.get(k));
    }
    return String.join(" ", parts);
  }

  private static String required(Map<String, String> a, String name) {
    String v = a.get(name);
    if (v == null || v.isEmpty()) {
      throw new IllegalArgumentException("--" + name + " is required");
    }
    return v;
  }

  /** One record in, one record out, to the "output" or the "error" sink. */
  static final class Transform implements Processor<byte[], byte[], byte[], byte[]> {
    private final Router router;
    private ProcessorContext<byte[], byte[]> ctx;

    Transform(Router router) {
      this.router = router;
    }

    @Override
    public void init(ProcessorContext<byte[], byte[]> ctx) {
      this.ctx = ctx;
    }

    @Override
    public void process(Record<byte[], byte[]> in) {
      RecordMetadata md = ctx.recordMetadata().orElseThrow();
      Router.Routed out = router.route(md.topic(), md.partition(), md.offset(), in.key(), in.headers(), in.value(),
          System.currentTimeMillis());
      ctx.forward(new Record<>(out.key(), out.value(), in.timestamp(), out.headers()), out.isError() ? "error" : "output");
    }
  }
}
