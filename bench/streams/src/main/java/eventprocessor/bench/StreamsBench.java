package eventprocessor.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.Serdes;
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
 * error event on the error topic, keyed and with provenance headers as the
 * processor does, under processing.guarantee=exactly_once_v2.
 *
 * <pre>
 * java -jar streams-bench.jar --bootstrap 127.0.0.1:9092 --input in --output out \
 *     --error err --application-id app [--threads 1] [--commit-interval-ms 100]
 * </pre>
 *
 * It runs until SIGTERM, then closes (committing what it has) and exits 0.
 */
public final class StreamsBench {
  private StreamsBench() {}

  public static void main(String[] args) throws Exception {
    Map<String, String> a = new HashMap<>();
    for (int i = 0; i + 1 < args.length; i += 2) {
      if (!args[i].startsWith("--")) {
        throw new IllegalArgumentException("expected --name value pairs, got " + args[i]);
      }
      a.put(args[i].substring(2), args[i + 1]);
    }
    String input = required(a, "input");
    String output = required(a, "output");
    String error = required(a, "error");

    Properties props = new Properties();
    props.put(StreamsConfig.APPLICATION_ID_CONFIG, required(a, "application-id"));
    props.put(StreamsConfig.BOOTSTRAP_SERVERS_CONFIG, required(a, "bootstrap"));
    props.put(StreamsConfig.PROCESSING_GUARANTEE_CONFIG, StreamsConfig.EXACTLY_ONCE_V2);
    props.put(StreamsConfig.COMMIT_INTERVAL_MS_CONFIG, a.getOrDefault("commit-interval-ms", "100"));
    props.put(StreamsConfig.NUM_STREAM_THREADS_CONFIG, a.getOrDefault("threads", "1"));
    props.put(StreamsConfig.STATE_DIR_CONFIG, Files.createTempDirectory("streams-bench").toString());
    props.put(StreamsConfig.DEFAULT_KEY_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    props.put(StreamsConfig.DEFAULT_VALUE_SERDE_CLASS_CONFIG, Serdes.ByteArraySerde.class);
    props.put(StreamsConfig.consumerPrefix("auto.offset.reset"), "earliest");

    String pipeline = a.getOrDefault("pipeline-name", "event-processor");
    Topology topology = new Topology();
    topology.addSource("input", new ByteArrayDeserializer(), new ByteArrayDeserializer(), input);
    topology.addProcessor("transform", () -> new Transform(new EventTransform(pipeline)), "input");
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
      stopped.countDown();
    }));
    streams.start();
    stopped.await();
    if (streams.state() == KafkaStreams.State.ERROR) {
      System.exit(1);
    }
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
    private final EventTransform tf;
    private ProcessorContext<byte[], byte[]> ctx;

    Transform(EventTransform tf) {
      this.tf = tf;
    }

    @Override
    public void init(ProcessorContext<byte[], byte[]> ctx) {
      this.ctx = ctx;
    }

    @Override
    public void process(Record<byte[], byte[]> in) {
      RecordMetadata md = ctx.recordMetadata().orElseThrow();
      EventTransform.Result res =
          tf.transform(in.value(), md.topic(), md.partition(), md.offset(), System.currentTimeMillis());
      byte[] key = in.key() != null && in.key().length > 0 ? in.key() : res.id();
      Headers headers = new RecordHeaders(in.headers().toArray());
      headers.remove("source.topic");
      headers.remove("source.partition");
      headers.remove("source.offset");
      headers.add("source.topic", md.topic().getBytes(StandardCharsets.UTF_8));
      headers.add("source.partition", Integer.toString(md.partition()).getBytes(StandardCharsets.UTF_8));
      headers.add("source.offset", Long.toString(md.offset()).getBytes(StandardCharsets.UTF_8));
      ctx.forward(new Record<>(key, res.value(), in.timestamp(), headers), res.isError() ? "error" : "output");
    }
  }
}
