package eventprocessor.bench;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

/**
 * The event contract of event-processor (schema/doc.go) written the way a
 * Kafka Streams job would: Jackson's tree model. Parse, validate id, type,
 * timestamp and data, then enrich, or describe the failure in an error event.
 * It follows the contract's rules and member order; it is not byte-for-byte
 * the Go implementation (error messages differ, and it does not cap event
 * sizes), which the benchmark does not need.
 */
final class EventTransform {
  static final String PARSE_ERROR = "PARSE_ERROR";
  static final String VALIDATION_ERROR = "VALIDATION_ERROR";
  static final long MAX_TIMESTAMP = 253402300799999L;

  private static final JsonMapper MAPPER =
      JsonMapper.builder()
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
          .build();

  private static final DateTimeFormatter ISO_MILLIS =
      DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSS'Z'").withZone(ZoneOffset.UTC);

  /** One event out: an enriched event, or an error event for the error topic. */
  record Result(byte[] value, boolean isError, byte[] id) {}

  private final String pipeline;

  EventTransform(String pipeline) {
    this.pipeline = pipeline;
  }

  Result transform(byte[] raw, String topic, int partition, long offset, long nowMillis) {
    if (raw == null || raw.length == 0) {
      return error(raw, PARSE_ERROR, "empty value: a tombstone or zero-length record is not an event",
          topic, partition, offset, nowMillis);
    }
    JsonNode ev;
    try {
      ev = MAPPER.readTree(raw);
    } catch (JsonProcessingException e) {
      return error(raw, PARSE_ERROR, e.getOriginalMessage(), topic, partition, offset, nowMillis);
    } catch (java.io.IOException e) {
      return error(raw, PARSE_ERROR, e.toString(), topic, partition, offset, nowMillis);
    }
    if (ev == null || ev.isMissingNode()) {
      return error(raw, PARSE_ERROR, "no JSON value", topic, partition, offset, nowMillis);
    }
    if (!ev.isObject()) {
      return error(raw, VALIDATION_ERROR, "the event must be a JSON object, got " + ev.getNodeType(),
          topic, partition, offset, nowMillis);
    }
    List<String> problems = new ArrayList<>(2);
    JsonNode id = ev.get("id");
    if (id == null || !id.isTextual() || id.textValue().isEmpty()) {
      problems.add("field \"id\": must be a non-empty string");
    }
    JsonNode type = ev.get("type");
    if (type == null || !type.isTextual() || type.textValue().isEmpty()) {
      problems.add("field \"type\": must be a non-empty string");
    }
    JsonNode tsNode = ev.get("timestamp");
    long ts = -1;
    if (tsNode == null || !tsNode.isIntegralNumber() || !tsNode.canConvertToLong()) {
      problems.add("field \"timestamp\": must be an integer number of epoch milliseconds");
    } else {
      ts = tsNode.longValue();
      if (ts < 0 || ts > MAX_TIMESTAMP) {
        problems.add("field \"timestamp\": out of range: " + ts);
      }
    }
    JsonNode data = ev.get("data");
    if (data != null && !data.isObject() && !data.isNull()) {
      problems.add("field \"data\": must be an object or null");
    }
    byte[] idBytes = id != null && id.isTextual() && !id.textValue().isEmpty()
        ? id.textValue().getBytes(StandardCharsets.UTF_8) : null;
    if (!problems.isEmpty()) {
      return new Result(errorEvent(raw, VALIDATION_ERROR, String.join("; ", problems), topic, partition, offset, nowMillis),
          true, idBytes);
    }

    ObjectNode out = MAPPER.createObjectNode();
    out.set("originalId", id);
    out.set("eventType", type);
    out.put("processedAt", ISO_MILLIS.format(Instant.ofEpochMilli(nowMillis)));
    out.put("processingDelay", nowMillis - ts);
    ObjectNode enriched = out.putObject("enrichedData");
    if (data != null && data.isObject()) {
      enriched.setAll((ObjectNode) data);
      enriched.remove("original_timestamp");
      enriched.remove("processing_pipeline");
    }
    enriched.put("original_timestamp", ts);
    enriched.put("processing_pipeline", pipeline);
    try {
      return new Result(MAPPER.writeValueAsBytes(out), false, idBytes);
    } catch (Exception e) {
      return new Result(errorEvent(raw, VALIDATION_ERROR, e.getMessage(), topic, partition, offset, nowMillis), true, idBytes);
    }
  }

  private Result error(byte[] raw, String type, String msg, String topic, int partition, long offset, long nowMillis) {
    return new Result(errorEvent(raw, type, msg, topic, partition, offset, nowMillis), true, null);
  }

  private static byte[] errorEvent(byte[] raw, String type, String msg, String topic, int partition, long offset,
      long nowMillis) {
    ObjectNode err = MAPPER.createObjectNode();
    String text = null;
    if (raw != null) {
      try {
        text = StandardCharsets.UTF_8.newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT)
            .decode(ByteBuffer.wrap(raw)).toString();
      } catch (CharacterCodingException e) {
        text = null;
      }
    }
    if (raw != null && text == null) {
      err.put("rawMessage", Base64.getEncoder().encodeToString(raw));
      err.put("rawMessageEncoding", "base64");
    } else {
      err.put("rawMessage", text == null ? "" : text);
    }
    err.put("errorType", type);
    err.put("errorMessage", msg == null ? "" : msg);
    err.put("timestamp", ISO_MILLIS.format(Instant.ofEpochMilli(nowMillis)));
    err.put("sourceTopic", topic);
    err.put("sourcePartition", partition);
    err.put("sourceOffset", offset);
    try {
      return MAPPER.writeValueAsBytes(err);
    } catch (Exception e) {
      throw new IllegalStateException("serializing an error event", e);
    }
  }
}
