package eventprocessor.bench;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.SerializableString;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.io.SerializedString;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.concurrent.atomic.LongAdder;

/**
 * The event contract on Jackson, the way a Kafka Streams job parses JSON:
 * with the tree model (every value read into a JsonNode, as
 * ObjectMapper.readTree does) or with the streaming JsonParser (tokens
 * only, no tree), and the output event written with a JsonGenerator.
 *
 * <p>The contract copies data's values byte for byte (numbers keep their
 * digits, strings their escapes), which no JSON tree can give back once
 * parsed: "\u00e9" would come out as "é", 1e3 as 1E+3. So both paths take
 * the raw bytes of each value from the parser's token offsets and write them
 * with the generator as raw values. Jackson decides only that an input is a
 * valid event; anything it refuses or finds wrong (about one input in ten
 * in the benchmark) goes to {@link Contract}, whose error events are the
 * processor's byte for byte. One instance per stream task: it keeps scratch
 * buffers.
 */
final class EventTransform {
  /** How Jackson reads the input. */
  enum Json {
    /** ObjectMapper's tree model: a JsonNode for every value. */
    TREE,
    /** JsonParser's tokens, skipping what the contract does not look into. */
    STREAMING
  }

  static final JsonFactory FACTORY =
      JsonFactory.builder()
          // The contract reads UTF-8 only; Jackson would otherwise guess
          // UTF-16 or UTF-32 from zero bytes and skip a byte order mark.
          .disable(JsonFactory.Feature.CHARSET_DETECTION)
          // Repeated keys are the contract's concern inside data only;
          // Jackson refusing them anywhere sends the input to Contract,
          // which knows where they matter.
          .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
          .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(Contract.MAX_DEPTH).build())
          .build();

  static final JsonMapper MAPPER =
      JsonMapper.builder(FACTORY)
          .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
          .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
          .build();

  /** Inputs whose event came from Jackson, and from Contract. */
  static final LongAdder BY_JACKSON = new LongAdder();
  static final LongAdder BY_CONTRACT = new LongAdder();

  private static final SerializedString ORIGINAL_ID = new SerializedString("originalId");
  private static final SerializedString EVENT_TYPE = new SerializedString("eventType");
  private static final SerializedString PROCESSED_AT = new SerializedString("processedAt");
  private static final SerializedString PROCESSING_DELAY = new SerializedString("processingDelay");
  private static final SerializedString ENRICHED_DATA = new SerializedString("enrichedData");
  private static final SerializedString ORIGINAL_TIMESTAMP = new SerializedString("original_timestamp");
  private static final SerializedString PROCESSING_PIPELINE = new SerializedString("processing_pipeline");

  private final boolean tree;
  /** Whether the last event came from Jackson (else from Contract). */
  boolean lastFromJackson;

  // The event being read: spans of id, type and data's members in the input.
  private int idStart;
  private int idEnd;
  private int typeStart;
  private int typeEnd;
  private long ts;
  private int nmem;
  private int[] mem = new int[16 * 5]; // kstart, kend, vstart, vend, container
  private String[] memName = new String[16];

  private final Buf out = new Buf(1024);
  private final BufStream outStream = new BufStream(out);
  private final Buf compact = new Buf(256);
  private final RawSpan span = new RawSpan();
  private final byte[] time = new byte[24];
  private final char[] timeChars = new char[24];

  EventTransform(Json json) {
    this.tree = json == Json.TREE;
  }

  /** The event for raw under c (its pipeline name and size cap). */
  Contract.Result transform(byte[] raw, Contract.Source src, long nowMillis, Contract c) {
    if (raw != null && raw.length > 0 && Text.jacksonReadable(raw) == -1) {
      try (JsonParser p = tree ? MAPPER.createParser(raw) : FACTORY.createParser(raw)) {
        if (read(p, raw)) {
          byte[] id = eventID(raw);
          write(raw, nowMillis, c);
          BY_JACKSON.increment();
          lastFromJackson = true;
          return c.finish(out, raw, id, src, nowMillis);
        }
      } catch (IOException | RuntimeException e) {
        // Not an event Jackson accepts (a syntax error, a repeated key, a
        // limit): Contract says what it is.
      }
    }
    BY_CONTRACT.increment();
    lastFromJackson = false;
    return c.transform(raw, src, nowMillis);
  }

  private static int offset(JsonParser p) {
    return (int) p.currentTokenLocation().getByteOffset();
  }

  /** The end of a value, from where the token after it starts: back over whitespace and a comma. */
  private static int valueEnd(byte[] b, int next) {
    int i = next;
    while (Text.isSpace(b[i - 1])) {
      i--;
    }
    if (b[i - 1] == ',') {
      i--;
      while (Text.isSpace(b[i - 1])) {
        i--;
      }
    }
    return i;
  }

  /** The end of a key (after its closing quote), from where its value starts. */
  private static int keyEnd(byte[] b, int value) {
    int i = value;
    while (Text.isSpace(b[i - 1])) {
      i--;
    }
    i--; // ':'
    while (Text.isSpace(b[i - 1])) {
      i--;
    }
    return i;
  }

  /**
   * Reads the event, leaving the spans in the fields; false unless it is
   * a valid event (Contract then says what it is instead).
   */
  private boolean read(JsonParser p, byte[] b) throws IOException {
    if (p.nextToken() != JsonToken.START_OBJECT) {
      return false;
    }
    nmem = 0;
    boolean id = false;
    boolean type = false;
    boolean timestamp = false;
    JsonToken t = p.nextToken();
    while (t == JsonToken.FIELD_NAME) {
      String name = p.currentName();
      JsonToken v = p.nextToken();
      int start = offset(p);
      boolean ok;
      switch (name) {
        case "id", "type" -> {
          ok = tree ? textual(node(p)) : v == JsonToken.VALUE_STRING;
        }
        case "timestamp" -> {
          ok = tree ? node(p).isIntegralNumber() : v == JsonToken.VALUE_NUMBER_INT;
        }
        case "data" -> {
          if (v == JsonToken.START_OBJECT) {
            readData(p, b);
            ok = true;
          } else {
            ok = tree ? node(p).isNull() : v == JsonToken.VALUE_NULL;
          }
        }
        default -> {
          // Not the contract's: read past it.
          if (tree) {
            node(p);
          } else {
            p.skipChildren();
          }
          ok = true;
        }
      }
      if (!ok) {
        return false;
      }
      t = p.nextToken();
      int end = valueEnd(b, offset(p));
      switch (name) {
        case "id" -> {
          idStart = start;
          idEnd = end;
          id = end - start > 2;
        }
        case "type" -> {
          typeStart = start;
          typeEnd = end;
          type = end - start > 2;
        }
        case "timestamp" -> {
          ts = Contract.parseTimestamp(b, start, end);
          timestamp = ts >= 0;
        }
        default -> {}
      }
    }
    // t is END_OBJECT: Jackson refuses anything else. One value, and
    // only whitespace after it.
    return id && type && timestamp && p.nextToken() == null;
  }

  /** The tree model: the value at the parser as a JsonNode (ObjectMapper.readTree). */
  private static JsonNode node(JsonParser p) throws IOException {
    return MAPPER.readTree(p);
  }

  private static boolean textual(JsonNode n) {
    return n.isTextual() && !n.textValue().isEmpty();
  }

  /** Reads data's members (the parser is on its START_OBJECT) and leaves it on data's END_OBJECT. */
  private void readData(JsonParser p, byte[] b) throws IOException {
    JsonToken t = p.nextToken();
    while (t == JsonToken.FIELD_NAME) {
      int kstart = offset(p);
      String name = p.currentName();
      JsonToken v = p.nextToken();
      int vstart = offset(p);
      if (tree) {
        node(p);
      } else {
        p.skipChildren();
      }
      t = p.nextToken();
      int vend = valueEnd(b, offset(p));
      if (name.equals("original_timestamp") || name.equals("processing_pipeline")) {
        continue; // replaced by the added members
      }
      int m = nmem * 5;
      if (m + 5 > mem.length) {
        mem = Arrays.copyOf(mem, mem.length * 2);
        memName = Arrays.copyOf(memName, memName.length * 2);
      }
      mem[m] = kstart;
      mem[m + 1] = keyEnd(b, vstart);
      mem[m + 2] = vstart;
      mem[m + 3] = vend;
      mem[m + 4] = v.isStructStart() ? 1 : 0;
      memName[nmem] = name;
      nmem++;
    }
  }

  /** The unescaped id, for the record key. */
  private byte[] eventID(byte[] b) {
    for (int i = idStart + 1; i < idEnd - 1; i++) {
      if (b[i] == '\\') {
        Buf u = new Buf(idEnd - idStart);
        Text.appendUnescaped(u, b, idStart + 1, idEnd - 1);
        return u.toArray();
      }
    }
    return Arrays.copyOfRange(b, idStart + 1, idEnd - 1);
  }

  /** Writes the output event into out. */
  private void write(byte[] b, long nowMillis, Contract c) throws IOException {
    out.n = 0;
    Text.formatTime(time, 0, nowMillis);
    for (int i = 0; i < time.length; i++) {
      timeChars[i] = (char) time[i];
    }
    try (JsonGenerator g = FACTORY.createGenerator(outStream)) {
      g.writeStartObject();
      g.writeFieldName(ORIGINAL_ID);
      g.writeRawValue(span.of(b, idStart, idEnd, null));
      g.writeFieldName(EVENT_TYPE);
      g.writeRawValue(span.of(b, typeStart, typeEnd, null));
      g.writeFieldName(PROCESSED_AT);
      g.writeString(timeChars, 0, timeChars.length);
      g.writeFieldName(PROCESSING_DELAY);
      g.writeNumber(nowMillis - ts);
      g.writeFieldName(ENRICHED_DATA);
      g.writeStartObject();
      for (int i = 0; i < nmem; i++) {
        int m = i * 5;
        // The key as written, escapes and all.
        g.writeFieldName(span.of(b, mem[m] + 1, mem[m + 1] - 1, memName[i]));
        if (mem[m + 4] != 0) {
          // A container may hold insignificant whitespace, which the contract removes.
          compact.n = 0;
          Text.appendCompact(compact, b, mem[m + 2], mem[m + 3]);
          g.writeRawValue(span.of(compact.a, 0, compact.n, null));
        } else {
          g.writeRawValue(span.of(b, mem[m + 2], mem[m + 3], null));
        }
      }
      g.writeFieldName(ORIGINAL_TIMESTAMP);
      g.writeNumber(ts);
      g.writeFieldName(PROCESSING_PIPELINE);
      g.writeRawUTF8String(c.pipelineEscaped, 0, c.pipelineEscaped.length);
      g.writeEndObject();
      g.writeEndObject();
    }
  }

  /** The generator's output into a Buf. */
  private static final class BufStream extends OutputStream {
    private final Buf buf;

    BufStream(Buf buf) {
      this.buf = buf;
    }

    @Override
    public void write(int c) {
      buf.add((byte) c);
    }

    @Override
    public void write(byte[] b, int off, int len) {
      buf.add(b, off, len);
    }
  }

  /**
   * Bytes of the input that are already JSON, for the generator to write as
   * they are: a value (writeRawValue) or a key's contents, escapes included
   * (writeFieldName, which also asks for the key's value: its name as
   * Jackson read it).
   */
  private static final class RawSpan implements SerializableString {
    private byte[] b;
    private int from;
    private int to;
    private String value;

    RawSpan of(byte[] b, int from, int to, String value) {
      this.b = b;
      this.from = from;
      this.to = to;
      this.value = value;
      return this;
    }

    @Override
    public String getValue() {
      return value != null ? value : new String(b, from, to - from, StandardCharsets.UTF_8);
    }

    @Override
    public int charLength() {
      return getValue().length();
    }

    private byte[] bytes() {
      return Arrays.copyOfRange(b, from, to);
    }

    private int append(byte[] buffer, int offset) {
      int n = to - from;
      if (offset + n > buffer.length) {
        return -1;
      }
      System.arraycopy(b, from, buffer, offset, n);
      return n;
    }

    private int put(ByteBuffer buffer) {
      int n = to - from;
      if (n > buffer.remaining()) {
        return -1;
      }
      buffer.put(b, from, n);
      return n;
    }

    private int write(OutputStream out) throws IOException {
      out.write(b, from, to - from);
      return to - from;
    }

    @Override
    public byte[] asUnquotedUTF8() {
      return bytes();
    }

    @Override
    public byte[] asQuotedUTF8() {
      return bytes();
    }

    @Override
    public int appendQuotedUTF8(byte[] buffer, int offset) {
      return append(buffer, offset);
    }

    @Override
    public int appendUnquotedUTF8(byte[] buffer, int offset) {
      return append(buffer, offset);
    }

    @Override
    public int writeQuotedUTF8(OutputStream out) throws IOException {
      return write(out);
    }

    @Override
    public int writeUnquotedUTF8(OutputStream out) throws IOException {
      return write(out);
    }

    @Override
    public int putQuotedUTF8(ByteBuffer buffer) {
      return put(buffer);
    }

    @Override
    public int putUnquotedUTF8(ByteBuffer buffer) {
      return put(buffer);
    }

    @Override
    public char[] asQuotedChars() {
      return new String(b, from, to - from, StandardCharsets.UTF_8).toCharArray();
    }

    @Override
    public int appendQuoted(char[] buffer, int offset) {
      char[] cs = asQuotedChars();
      if (offset + cs.length > buffer.length) {
        return -1;
      }
      System.arraycopy(cs, 0, buffer, offset, cs.length);
      return cs.length;
    }

    @Override
    public int appendUnquoted(char[] buffer, int offset) {
      return appendQuoted(buffer, offset);
    }
  }
}
