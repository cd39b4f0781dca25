package eventprocessor.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeaders;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/**
 * Both ways of reading JSON against the processor's own results: every
 * vector in testdata/vectors.jsonl (written by testdata/gen from the
 * processor's Router) must give the same topic, key, headers and value,
 * byte for byte.
 */
class VectorsTest {
  static final String OUTPUT = "output-results";
  static final String ERRORS = "error-events";

  record Vector(String name, String pipeline, int limit, long now, int partition, long offset, String inTopic,
      byte[] inKey, List<Header> inHeaders, byte[] inValue, String outTopic, byte[] outKey, List<Header> outHeaders,
      byte[] outValue, String errorType) {}

  static List<Vector> vectors;

  @BeforeAll
  static void load() throws IOException {
    vectors = new ArrayList<>();
    try (BufferedReader r = Files.newBufferedReader(Path.of("testdata", "vectors.jsonl"), StandardCharsets.UTF_8)) {
      for (String line; (line = r.readLine()) != null; ) {
        JsonNode v = EventTransform.MAPPER.readTree(line);
        JsonNode in = v.get("in");
        JsonNode out = v.get("out");
        vectors.add(new Vector(v.get("name").asText(), v.get("pipeline").asText(), v.get("limit").asInt(),
            v.get("nowMillis").asLong(), v.get("partition").asInt(), v.get("offset").asLong(),
            in.get("topic").asText(), bytes(in.get("key")), headers(in.get("headers")), bytes(in.get("value")),
            out.get("topic").asText(), bytes(out.get("key")), headers(out.get("headers")), bytes(out.get("value")),
            v.get("errorType").asText()));
      }
    }
    assertTrue(vectors.size() > 1000, "only " + vectors.size() + " vectors");
  }

  static byte[] bytes(JsonNode d) {
    if (d.has("text")) {
      return d.get("text").asText().getBytes(StandardCharsets.UTF_8);
    }
    if (d.has("b64")) {
      return Base64.getDecoder().decode(d.get("b64").asText());
    }
    return null;
  }

  static List<Header> headers(JsonNode hs) {
    RecordHeaders out = new RecordHeaders();
    for (JsonNode h : hs) {
      out.add(h.get("key").asText(), bytes(h.get("value")));
    }
    return Arrays.asList(out.toArray());
  }

  static String show(byte[] b) {
    if (b == null) {
      return "null";
    }
    String s = new String(b, StandardCharsets.UTF_8);
    return s.length() > 600 ? s.substring(0, 600) + "...(" + b.length + " bytes)" : s;
  }

  static String show(List<Header> hs) {
    StringBuilder sb = new StringBuilder("[");
    for (Header h : hs) {
      sb.append(h.key()).append('=').append(show(h.value())).append(' ');
    }
    return sb.append(']').toString();
  }

  static boolean sameHeaders(List<Header> want, Header[] got) {
    if (want.size() != got.length) {
      return false;
    }
    for (int i = 0; i < got.length; i++) {
      byte[] w = want.get(i).value();
      byte[] g = got[i].value();
      // A header without a value and one with an empty value are the same on the wire.
      boolean same = Arrays.equals(w == null ? new byte[0] : w, g == null ? new byte[0] : g);
      if (!want.get(i).key().equals(got[i].key()) || !same) {
        return false;
      }
    }
    return true;
  }

  @ParameterizedTest
  @EnumSource(EventTransform.Json.class)
  void matchesTheProcessor(EventTransform.Json json) {
    Map<String, Router> routers = new HashMap<>();
    List<String> failures = new ArrayList<>();
    for (Vector v : vectors) {
      Router rt = routers.computeIfAbsent(v.pipeline() + "\u0000" + v.limit(), k -> new Router(v.pipeline(), v.limit(), json));
      RecordHeaders in = new RecordHeaders(v.inHeaders().toArray(new Header[0]));
      Router.Routed got = rt.route(v.inTopic(), v.partition(), v.offset(), v.inKey(), in, v.inValue(), v.now());
      String topic = got.isError() ? ERRORS : OUTPUT;
      List<String> diff = new ArrayList<>();
      if (!topic.equals(v.outTopic())) {
        diff.add("topic " + topic + ", want " + v.outTopic());
      }
      if (!Arrays.equals(got.key(), v.outKey())) {
        diff.add("key " + show(got.key()) + ", want " + show(v.outKey()));
      }
      if (!sameHeaders(v.outHeaders(), got.headers().toArray())) {
        diff.add("headers " + show(Arrays.asList(got.headers().toArray())) + ", want " + show(v.outHeaders()));
      }
      if (!Arrays.equals(got.value(), v.outValue())) {
        diff.add("value\n  got  " + show(got.value()) + "\n  want " + show(v.outValue()));
      }
      if (!v.errorType().equals(got.errorType() == null ? "" : got.errorType())) {
        diff.add("errorType " + got.errorType() + ", want " + v.errorType());
      }
      if (!diff.isEmpty()) {
        failures.add(v.name() + " (input " + show(v.inValue()) + "): " + String.join("; ", diff));
      }
    }
    if (!failures.isEmpty()) {
      fail(failures.size() + " of " + vectors.size() + " vectors differ from the processor:\n"
          + String.join("\n", failures.subList(0, Math.min(30, failures.size()))));
    }
  }

  /**
   * Beyond the vectors: Jackson must never take for a valid event what the
   * contract refuses, nor write one differently. Mutations of every vector
   * input (bytes deleted, inserted, replaced, spans repeated; seeded) go
   * through both paths and must give the same event as Contract alone,
   * which the vectors hold to the processor.
   */
  @ParameterizedTest
  @EnumSource(EventTransform.Json.class)
  void jacksonAgreesWithTheContract(EventTransform.Json json) {
    EventTransform tf = new EventTransform(json);
    Contract c = new Contract(Contract.DEFAULT_PIPELINE_NAME, 20_000);
    java.util.Random rng = new java.util.Random(14);
    byte[] alphabet = "{}[]\":,\\ \t\n0123456789-+.eEtrufalsnd\u0000\u007f/u".getBytes(StandardCharsets.UTF_8);
    Contract.Source src = new Contract.Source("input-events", 1, 7, true);
    int jackson = 0;
    int n = 0;
    List<String> failures = new ArrayList<>();
    for (Vector v : vectors) {
      if (v.inValue() == null || v.inValue().length > 2048) {
        continue;
      }
      byte[] b = v.inValue();
      for (int k = 0; k < 12; k++) {
        b = mutate(rng, k % 3 == 0 ? v.inValue() : b, alphabet);
        Contract.Result want = c.transform(b, src, v.now());
        Contract.Result got = tf.transform(b, src, v.now(), c);
        n++;
        if (tf.lastFromJackson) {
          jackson++;
        }
        if (!Arrays.equals(want.value(), got.value()) || !Arrays.equals(want.id(), got.id())
            || want.isError() != got.isError()) {
          failures.add(show(b) + "\n  got  " + show(got.value()) + "\n  want " + show(want.value()));
        }
      }
    }
    if (!failures.isEmpty()) {
      fail(failures.size() + " of " + n + " mutations differ:\n"
          + String.join("\n", failures.subList(0, Math.min(20, failures.size()))));
    }
    assertTrue(jackson > n / 20, "only " + jackson + " of " + n + " mutations were read by Jackson");
  }

  static byte[] mutate(java.util.Random rng, byte[] b, byte[] alphabet) {
    if (b.length == 0) {
      return new byte[] {alphabet[rng.nextInt(alphabet.length)]};
    }
    int i = rng.nextInt(b.length);
    java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(b.length + 8);
    switch (rng.nextInt(4)) {
      case 0 -> {
        out.write(b, 0, i);
        out.write(b, i + 1, b.length - i - 1);
      }
      case 1 -> {
        out.write(b, 0, i);
        out.write(alphabet[rng.nextInt(alphabet.length)]);
        out.write(b, i, b.length - i);
      }
      case 2 -> {
        out.write(b, 0, b.length);
        byte[] r = out.toByteArray();
        r[i] = alphabet[rng.nextInt(alphabet.length)];
        return r;
      }
      default -> {
        int j = Math.min(b.length, i + 1 + rng.nextInt(8));
        out.write(b, 0, j);
        out.write(b, i, j - i);
        out.write(b, j, b.length - j);
      }
    }
    return out.toByteArray();
  }

  /**
   * Every valid event of the benchmark's kind must come from Jackson, not
   * from the contract's own scanner: otherwise the peer would be measuring
   * the wrong parser.
   */
  @ParameterizedTest
  @EnumSource(EventTransform.Json.class)
  void validEventsAreJacksons(EventTransform.Json json) {
    EventTransform tf = new EventTransform(json);
    Contract c = new Contract(Contract.DEFAULT_PIPELINE_NAME, 1_000_000 - Router.RECORD_OVERHEAD);
    int valid = 0;
    for (Vector v : vectors) {
      if (!v.name().startsWith("mixed/") || !v.outTopic().equals(OUTPUT)) {
        continue;
      }
      Contract.Result res = tf.transform(v.inValue(), new Contract.Source(v.inTopic(), v.partition(), v.offset(), true),
          v.now(), c);
      assertTrue(tf.lastFromJackson, v.name() + " was not read by Jackson: " + show(v.inValue()));
      assertEquals(show(v.outValue()), show(res.value()), v.name());
      valid++;
    }
    assertTrue(valid > 300, "only " + valid + " valid mixed events");
  }
}
