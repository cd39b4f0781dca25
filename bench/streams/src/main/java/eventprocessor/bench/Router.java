package eventprocessor.bench;

import java.nio.charset.StandardCharsets;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * One input record to its one result record, as the processor's Router
 * (processor/route.go) maps it: the event the contract makes of the value,
 * on the output or error topic; the input's key, else the event id, else
 * the input's coordinates ("input-events/2@17"), so that every record has a
 * key; the input's headers less any provenance headers, then the provenance
 * headers naming the input. Keys and headers too large for the room kept
 * for them shrink the event's size budget or are dropped, as there. One
 * Router per stream task (its EventTransform keeps scratch buffers).
 */
final class Router {
  /** Room kept below the record size limit for framing, provenance headers and a typical key and headers. */
  static final int RECORD_OVERHEAD = 4096;
  /** The part of it kept for the input's key and headers. */
  static final int KEY_HEADER_ROOM = RECORD_OVERHEAD - 512;
  /** The smallest record size limit: the overhead and the smallest event. */
  static final int MIN_RECORD_BYTES = Contract.MIN_MAX_RECORD_BYTES + RECORD_OVERHEAD;
  /** Framing counted for each header, and for the key. */
  private static final int HEADER_FRAMING = 8;

  static final String HEADER_SOURCE_TOPIC = "source.topic";
  static final String HEADER_SOURCE_PARTITION = "source.partition";
  static final String HEADER_SOURCE_OFFSET = "source.offset";

  /** The result record: for the error topic when isError. */
  record Routed(boolean isError, byte[] key, Headers headers, byte[] value, String errorType) {}

  private final String pipeline;
  private final int limit;
  private final Contract contract;
  final EventTransform tf;

  /** A router for a record size limit (at least MIN_RECORD_BYTES). */
  Router(String pipeline, int limit, EventTransform.Json json) {
    if (limit < MIN_RECORD_BYTES) {
      throw new IllegalArgumentException("record size limit " + limit + " is below the minimum " + MIN_RECORD_BYTES);
    }
    this.pipeline = pipeline;
    this.limit = limit;
    this.contract = new Contract(pipeline, limit - RECORD_OVERHEAD);
    this.tf = new EventTransform(json);
  }

  Routed route(String topic, int partition, long offset, byte[] key, Headers in, byte[] value, long nowMillis) {
    int keyLen = key == null ? 0 : key.length;
    int keep = keyLen; // bytes of the input's key and headers carried over
    for (Header h : in) {
      keep += Text.utf8Length(h.key()) + (h.value() == null ? 0 : h.value().length) + HEADER_FRAMING;
    }
    if (keyLen == 0) {
      // Room for the key of last resort, the input's coordinates.
      keep += Text.utf8Length(topic) + 2 + 10 + 19 + HEADER_FRAMING;
    }
    Contract c = contract;
    boolean carry = true;
    boolean shrunk = false;
    if (keep > KEY_HEADER_ROOM) {
      // The key and headers need more than the room kept for them: shrink
      // the event's budget by the excess, or, where that would leave too
      // little, drop them (the provenance headers still name the input).
      int budget = limit - 512 - keep;
      if (budget >= Contract.MIN_MAX_RECORD_BYTES) {
        c = new Contract(pipeline, budget);
        shrunk = true;
      } else {
        carry = false;
        keep = 0;
      }
    }
    Contract.Result res = tf.transform(value, new Contract.Source(topic, partition, offset, true), nowMillis, c);

    byte[] outKey;
    if (carry && keyLen > 0) {
      outKey = key;
    } else if (res.id() != null && res.id().length > 0 && !shrunk
        && keep + res.id().length + HEADER_FRAMING <= KEY_HEADER_ROOM) {
      outKey = res.id();
    } else {
      outKey = (topic + "/" + partition + "@" + offset).getBytes(StandardCharsets.UTF_8);
    }
    RecordHeaders headers = new RecordHeaders();
    if (carry) {
      for (Header h : in) {
        if (!isProvenance(h.key())) {
          headers.add(h);
        }
      }
    }
    headers.add(HEADER_SOURCE_TOPIC, topic.getBytes(StandardCharsets.UTF_8));
    headers.add(HEADER_SOURCE_PARTITION, Integer.toString(partition).getBytes(StandardCharsets.US_ASCII));
    headers.add(HEADER_SOURCE_OFFSET, Long.toString(offset).getBytes(StandardCharsets.US_ASCII));
    return new Routed(res.isError(), outKey, headers, res.value(), res.errorType());
  }

  static boolean isProvenance(String key) {
    return key.equals(HEADER_SOURCE_TOPIC) || key.equals(HEADER_SOURCE_PARTITION) || key.equals(HEADER_SOURCE_OFFSET);
  }
}
