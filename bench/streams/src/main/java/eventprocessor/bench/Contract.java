package eventprocessor.bench;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;

/**
 * The event contract of event-processor (schema/doc.go), written as the
 * processor's schema package writes it, byte for byte: the same single-pass
 * scanner, the same validation order and messages (with their offsets), the
 * same size cap. The Jackson paths (EventTransform) make the output events
 * of valid input themselves; whatever they do not accept as a valid event
 * comes here, so that every error event and every edge case is the
 * processor's bytes. One Contract is safe for use by many threads.
 */
final class Contract {
  static final String PARSE_ERROR = "PARSE_ERROR";
  static final String VALIDATION_ERROR = "VALIDATION_ERROR";
  static final String OUTPUT_TOO_LARGE = "OUTPUT_TOO_LARGE";

  /** The deepest nesting accepted; the event object is level 1. */
  static final int MAX_DEPTH = 1000;
  /** 9999-12-31T23:59:59.999Z in epoch milliseconds. */
  static final long MAX_TIMESTAMP = 253402300799999L;
  static final String DEFAULT_PIPELINE_NAME = "event-processor";
  /** The smallest event size cap: room for an error event's fixed members and some raw message. */
  static final int MIN_MAX_RECORD_BYTES = 4096;
  private static final int MAX_PIPELINE_NAME_BYTES = 256;
  // Limits that keep an error event's fixed members small.
  private static final int MAX_MESSAGE_BYTES = 1024;
  private static final int MAX_TOPIC_BYTES = 512;

  /** Where a raw value came from; known=false leaves the source members out of error events. */
  record Source(String topic, int partition, long offset, boolean known) {}

  /**
   * The one event made of an input: value is the output or error event;
   * errorType is null for an output event; id is the unescaped event id
   * when the input had a valid one (also on validation errors), else null.
   */
  record Result(byte[] value, boolean isError, String errorType, byte[] id) {}

  /** The largest event this contract ever returns. */
  final int max;
  /** The pipeline name as the contents of a JSON string. */
  final byte[] pipelineEscaped;
  private final byte[] suffix;

  Contract(String pipelineName, int maxRecordBytes) {
    if (pipelineName == null || pipelineName.isEmpty()) {
      pipelineName = DEFAULT_PIPELINE_NAME;
    }
    byte[] name = pipelineName.getBytes(StandardCharsets.UTF_8);
    if (name.length > MAX_PIPELINE_NAME_BYTES) {
      throw new IllegalArgumentException(
          "pipeline name must be at most " + MAX_PIPELINE_NAME_BYTES + " bytes, got " + name.length);
    }
    if (maxRecordBytes < MIN_MAX_RECORD_BYTES) {
      throw new IllegalArgumentException(
          "the event size cap must be at least " + MIN_MAX_RECORD_BYTES + ", got " + maxRecordBytes);
    }
    Buf esc = new Buf(name.length + 8);
    Text.appendEscaped(esc, name, Integer.MAX_VALUE);
    pipelineEscaped = esc.toArray();
    suffix = new Buf(64).ascii(",\"processing_pipeline\":\"").add(pipelineEscaped).ascii("\"}}").toArray();
    max = maxRecordBytes;
  }

  /** Transform: exactly one event for raw, never larger than max. */
  Result transform(byte[] raw, Source src, long nowMillis) {
    if (raw == null || raw.length == 0) {
      return errorResult(raw, PARSE_ERROR,
          ascii("empty value: a tombstone or zero-length record is not an event"), null, src, nowMillis);
    }
    int bad = Text.invalidUtf8At(raw);
    if (bad >= 0) {
      Buf msg = new Buf(128).ascii("value is not valid UTF-8 (first invalid byte at offset ").decimal(bad).add(')');
      return errorResult(raw, PARSE_ERROR, msg, null, src, nowMillis);
    }
    Scanner s = new Scanner(raw);
    int top = s.event();
    if (s.err != SYN_OK) {
      return errorResult(raw, PARSE_ERROR, s.syntaxMessage(new Buf(256)), null, src, nowMillis);
    }
    byte[] id = s.eventID();
    Buf msg = new Buf(512);
    long ts = s.validate(msg, top);
    if (msg.n > 0) {
      return errorResult(raw, VALIDATION_ERROR, msg, id, src, nowMillis);
    }

    Buf out = new Buf(raw.length + 256 + suffix.length);
    out.ascii("{\"originalId\":").add(raw, s.id.start, s.id.end);
    out.ascii(",\"eventType\":").add(raw, s.typ.start, s.typ.end);
    out.ascii(",\"processedAt\":\"");
    Text.appendTime(out, nowMillis);
    out.ascii("\",\"processingDelay\":").decimal(nowMillis - ts);
    out.ascii(",\"enrichedData\":{");
    for (int i = 0; i < s.nmem; i++) {
      int m = i * MEMBER_INTS;
      int[] mem = s.members;
      if (mem[m + M_RESERVED] != 0) {
        continue;
      }
      out.add(raw, mem[m + M_KSTART], mem[m + M_KEND]).add(':');
      if (mem[m + M_WS] != 0) {
        Text.appendCompact(out, raw, mem[m + M_VSTART], mem[m + M_VEND]);
      } else {
        out.add(raw, mem[m + M_VSTART], mem[m + M_VEND]);
      }
      out.add(',');
    }
    out.ascii("\"original_timestamp\":").decimal(ts);
    out.add(suffix);
    return finish(out, raw, id, src, nowMillis);
  }

  /**
   * An output event built elsewhere (the Jackson paths) checked against the
   * cap: itself when it fits, else the OUTPUT_TOO_LARGE error event.
   */
  Result finish(Buf out, byte[] raw, byte[] id, Source src, long nowMillis) {
    if (out.n > max) {
      Buf msg = new Buf(128).ascii("output event would be ").decimal(out.n)
          .ascii(" bytes, more than the maximum record size of ").decimal(max).ascii(" bytes");
      return errorResult(raw, OUTPUT_TOO_LARGE, msg, id, src, nowMillis);
    }
    return new Result(out.toArray(), false, null, id);
  }

  private static Buf ascii(String s) {
    return new Buf(s.length()).ascii(s);
  }

  private static final byte[] HEAD = ascii("{\"rawMessage\":\"").toArray();
  private static final byte[] TRUNCATED = ascii(",\"rawMessageTruncated\":true,\"rawMessageOriginalLength\":").toArray();

  /** errorResult: the error event for raw. */
  Result errorResult(byte[] raw, String errorType, Buf msg, byte[] id, Source src, long nowMillis) {
    if (raw == null) {
      raw = new byte[0];
    }
    boolean b64 = Text.invalidUtf8At(raw) >= 0;

    // The members after rawMessage, built first so the raw message can be
    // cut to whatever room they leave.
    Buf tail = new Buf(256);
    tail.ascii("\",\"errorType\":\"").ascii(errorType).ascii("\",\"errorMessage\":\"");
    Text.appendEscaped(tail, msg.a, 0, msg.n, MAX_MESSAGE_BYTES);
    tail.ascii("\",\"timestamp\":\"");
    Text.appendTime(tail, nowMillis);
    tail.add('"');
    if (src.known()) {
      tail.ascii(",\"sourceTopic\":\"");
      Text.appendEscaped(tail, src.topic().getBytes(StandardCharsets.UTF_8), MAX_TOPIC_BYTES);
      tail.ascii("\",\"sourcePartition\":").decimal(src.partition());
      tail.ascii(",\"sourceOffset\":").decimal(src.offset());
    }
    if (b64) {
      tail.ascii(",\"rawMessageEncoding\":\"base64\"");
    }

    int room = max - HEAD.length - tail.n - 1;
    int encLen = b64 ? (raw.length + 2) / 3 * 4 : Text.escapedLen(raw);
    boolean cut = encLen > room;
    if (cut) {
      room -= TRUNCATED.length + Integer.toString(raw.length).length();
      encLen = room;
    }

    Buf out = new Buf(HEAD.length + encLen + tail.n + TRUNCATED.length + 24);
    out.add(HEAD);
    if (b64) {
      int n = cut ? room / 4 * 3 : raw.length;
      out.add(Base64.getEncoder().encode(Arrays.copyOf(raw, n)));
    } else {
      Text.appendEscaped(out, raw, room);
    }
    out.add(tail);
    if (cut) {
      out.add(TRUNCATED).decimal(raw.length);
    }
    out.add('}');
    return new Result(out.toArray(), true, errorType, id);
  }

  // Kinds of scanned values; NONE means the field was absent.
  static final int NONE = 0;
  static final int NULL = 1;
  static final int BOOL = 2;
  static final int NUMBER = 3;
  static final int STRING = 4;
  static final int ARRAY = 5;
  static final int OBJECT = 6;

  /** How error messages name a kind: "got a string". */
  static String noun(int kind) {
    return switch (kind) {
      case NULL -> "null";
      case BOOL -> "a boolean";
      case NUMBER -> "a number";
      case STRING -> "a string";
      case ARRAY -> "an array";
      case OBJECT -> "an object";
      default -> "nothing";
    };
  }

  // Why scanning stopped.
  private static final int SYN_OK = 0;
  private static final int SYN_NO_VALUE = 1;
  private static final int SYN_EOF = 2;
  private static final int SYN_VALUE_START = 3;
  private static final int SYN_KEY_START = 4;
  private static final int SYN_COLON = 5;
  private static final int SYN_OBJECT_NEXT = 6;
  private static final int SYN_ARRAY_NEXT = 7;
  private static final int SYN_LITERAL = 8;
  private static final int SYN_NUMBER = 9;
  private static final int SYN_CONTROL = 10;
  private static final int SYN_ESCAPE = 11;
  private static final int SYN_DEPTH = 12;
  private static final int SYN_TRAILING = 13;

  /** A top-level member the contract knows about; for strings the span includes the quotes. */
  private static final class Field {
    int kind;
    int count;
    int start;
    int end;
    boolean esc;
  }

  // A member of the data object: six ints in Scanner.members.
  private static final int M_KSTART = 0; // the key, quotes included
  private static final int M_KEND = 1;
  private static final int M_VSTART = 2;
  private static final int M_VEND = 3;
  private static final int M_WS = 4; // the value contains insignificant whitespace
  private static final int M_RESERVED = 5; // original_timestamp or processing_pipeline
  private static final int MEMBER_INTS = 6;

  /** An object key for duplicate detection: a span of the input, or of the unescaped copies. */
  private static final class KeyRef {
    final int off;
    final int n;
    final boolean unescaped;

    KeyRef(int off, int n, boolean unescaped) {
      this.off = off;
      this.n = n;
      this.unescaped = unescaped;
    }
  }

  private static boolean isHex(byte c) {
    int l = c | 0x20;
    return (c >= '0' && c <= '9') || (l >= 'a' && l <= 'f');
  }

  private static boolean isDigit(byte c) {
    return c >= '0' && c <= '9';
  }

  /** strSafe: the bytes that need no attention inside a string. */
  private static boolean strSafe(byte c) {
    int u = c & 0xff;
    return u >= 0x20 && u != '"' && u != '\\';
  }

  /**
   * The schema package's scanner: a single-pass JSON validator that records
   * only what the contract needs.
   */
  private static final class Scanner {
    final byte[] b;
    int i;
    int ws; // whitespace bytes skipped so far

    int err = SYN_OK;
    int errAt;

    final Field id = new Field();
    final Field typ = new Field();
    final Field ts = new Field();
    final Field data = new Field();
    boolean lastEsc;

    int nmem;
    int[] members = new int[32 * MEMBER_INTS];

    final List<KeyRef> keys = new ArrayList<>();
    final Buf unesc = new Buf(128);

    KeyRef dupKey;
    int dupAt = -1;

    Scanner(byte[] b) {
      this.b = b;
    }

    void addMember(int kstart, int kend, int vstart, int vend, boolean hasWS, boolean reserved) {
      int m = nmem * MEMBER_INTS;
      if (m + MEMBER_INTS > members.length) {
        members = Arrays.copyOf(members, members.length * 2);
      }
      members[m + M_KSTART] = kstart;
      members[m + M_KEND] = kend;
      members[m + M_VSTART] = vstart;
      members[m + M_VEND] = vend;
      members[m + M_WS] = hasWS ? 1 : 0;
      members[m + M_RESERVED] = reserved ? 1 : 0;
      nmem++;
    }

    boolean fail(int code) {
      err = code;
      errAt = i;
      return false;
    }

    void skipWS() {
      int j = i;
      while (j < b.length) {
        byte c = b[j];
        if (c != ' ' && c != '\n' && c != '\r' && c != '\t') {
          break;
        }
        j++;
      }
      ws += j - i;
      i = j;
    }

    /** Scans the whole input; returns the kind of the top-level value (err says whether it failed). */
    int event() {
      skipWS();
      if (i == b.length) {
        fail(SYN_NO_VALUE);
        return NONE;
      }
      int k;
      if (b[i] == '{') {
        k = OBJECT;
        if (!topObject()) {
          return k;
        }
      } else {
        k = value(0, false);
        if (err != SYN_OK) {
          return k;
        }
      }
      skipWS();
      if (i != b.length) {
        fail(SYN_TRAILING);
      }
      return k;
    }

    boolean topObject() {
      i++;
      skipWS();
      if (i < b.length && b[i] == '}') {
        i++;
        return true;
      }
      for (;;) {
        if (i >= b.length || b[i] != '"') {
          return fail(SYN_KEY_START);
        }
        int kstart = i;
        boolean esc = str();
        if (err != SYN_OK) {
          return false;
        }
        Field f = knownField(kstart + 1, i - 1, esc);
        if (!colon()) {
          return false;
        }
        int vstart = i;
        int k;
        if (f == data && b[vstart] == '{') {
          k = OBJECT;
          object(2, true, true);
        } else {
          k = value(1, false);
        }
        if (err != SYN_OK) {
          return false;
        }
        if (f != null) {
          f.count++;
          f.kind = k;
          f.start = vstart;
          f.end = i;
          if (k == STRING) {
            f.esc = lastEsc;
          }
        }
        int next = next('}', SYN_OBJECT_NEXT);
        if (next != NEXT_MORE) {
          return next == NEXT_DONE;
        }
      }
    }

    /** Maps a top-level key to the field it sets, or null. */
    Field knownField(int from, int to, boolean esc) {
      byte[] key = b;
      if (esc) {
        // An escaped spelling of a known key ("\u0069d") still names it.
        if (to - from > 6 * "timestamp".length()) {
          return null;
        }
        Buf u = new Buf(64);
        Text.appendUnescaped(u, b, from, to);
        key = u.a;
        from = 0;
        to = u.n;
      }
      if (equalsAscii(key, from, to, "id")) {
        return id;
      } else if (equalsAscii(key, from, to, "type")) {
        return typ;
      } else if (equalsAscii(key, from, to, "timestamp")) {
        return ts;
      } else if (equalsAscii(key, from, to, "data")) {
        return data;
      }
      return null;
    }

    boolean colon() {
      skipWS();
      if (i >= b.length || b[i] != ':') {
        return fail(SYN_COLON);
      }
      i++;
      skipWS();
      if (i >= b.length) {
        return fail(SYN_EOF);
      }
      return true;
    }

    static final int NEXT_MORE = 0;
    static final int NEXT_DONE = 1;
    static final int NEXT_FAILED = 2;

    /** Consumes the ',' or closing bracket after a member or element. */
    int next(char closing, int code) {
      skipWS();
      if (i < b.length) {
        if (b[i] == ',') {
          i++;
          skipWS();
          return NEXT_MORE;
        }
        if (b[i] == closing) {
          i++;
          return NEXT_DONE;
        }
      }
      fail(code);
      return NEXT_FAILED;
    }

    /** Scans any value at i; depth is the level of its container, dup asks for duplicate-key checks. */
    int value(int depth, boolean dup) {
      if (i >= b.length) {
        fail(SYN_EOF);
        return NONE;
      }
      byte c = b[i];
      switch (c) {
        case '{':
          object(depth + 1, dup, false);
          return OBJECT;
        case '[':
          array(depth + 1, dup);
          return ARRAY;
        case '"':
          str();
          return STRING;
        case 't':
          literal("true");
          return BOOL;
        case 'f':
          literal("false");
          return BOOL;
        case 'n':
          literal("null");
          return NULL;
        default:
          if (c == '-' || isDigit(c)) {
            number();
            return NUMBER;
          }
          fail(SYN_VALUE_START);
          return NONE;
      }
    }

    boolean object(int depth, boolean dup, boolean isData) {
      if (depth > MAX_DEPTH) {
        return fail(SYN_DEPTH);
      }
      i++;
      skipWS();
      if (i < b.length && b[i] == '}') {
        i++;
        return true;
      }
      int base = keys.size();
      for (;;) {
        if (i >= b.length || b[i] != '"') {
          return fail(SYN_KEY_START);
        }
        int kstart = i;
        boolean esc = str();
        if (err != SYN_OK) {
          return false;
        }
        int kend = i;
        boolean reserved = false;
        if (dup) {
          KeyRef ref = keyRef(kstart, kend, esc);
          if (isData) {
            reserved = keyEquals(ref, "original_timestamp") || keyEquals(ref, "processing_pipeline");
          }
          if (!reserved) {
            keys.add(ref);
          }
        }
        if (!colon()) {
          return false;
        }
        int vstart = i;
        int ws0 = ws;
        value(depth, dup);
        if (err != SYN_OK) {
          return false;
        }
        if (isData) {
          addMember(kstart, kend, vstart, i, ws != ws0, reserved);
        }
        int next = next('}', SYN_OBJECT_NEXT);
        if (next == NEXT_FAILED) {
          return false;
        }
        if (next == NEXT_DONE) {
          if (dup) {
            checkDups(base);
            keys.subList(base, keys.size()).clear();
          }
          return true;
        }
      }
    }

    boolean array(int depth, boolean dup) {
      if (depth > MAX_DEPTH) {
        return fail(SYN_DEPTH);
      }
      i++;
      skipWS();
      if (i < b.length && b[i] == ']') {
        i++;
        return true;
      }
      for (;;) {
        value(depth, dup);
        if (err != SYN_OK) {
          return false;
        }
        int next = next(']', SYN_ARRAY_NEXT);
        if (next != NEXT_MORE) {
          return next == NEXT_DONE;
        }
      }
    }

    KeyRef keyRef(int kstart, int kend, boolean esc) {
      if (!esc) {
        return new KeyRef(kstart + 1, kend - kstart - 2, false);
      }
      int off = unesc.n;
      Text.appendUnescaped(unesc, b, kstart + 1, kend - 1);
      return new KeyRef(off, unesc.n - off, true);
    }

    byte[] keyArray(KeyRef r) {
      return r.unescaped ? unesc.a : b;
    }

    boolean keyEquals(KeyRef r, String ascii) {
      return equalsAscii(keyArray(r), r.off, r.off + r.n, ascii);
    }

    int compareKeys(KeyRef x, KeyRef y) {
      return Arrays.compareUnsigned(keyArray(x), x.off, x.off + x.n, keyArray(y), y.off, y.off + y.n);
    }

    /**
     * checkDups: records the first repeated key among one object's keys
     * (from base on): pairwise for up to 16, else after sorting them, as
     * the Go original does with slices.SortFunc (whose order among equal
     * keys decides which one is reported, so the sort is Go's own).
     */
    void checkDups(int base) {
      int n = keys.size() - base;
      if (dupAt >= 0 || n < 2) {
        return;
      }
      if (n <= 16) {
        for (int x = base + 1; x < keys.size(); x++) {
          KeyRef kx = keys.get(x);
          for (int y = base; y < x; y++) {
            if (compareKeys(kx, keys.get(y)) == 0) {
              dupKey = kx;
              dupAt = keyOffset(kx);
              return;
            }
          }
        }
        return;
      }
      KeyRef[] sorted = keys.subList(base, keys.size()).toArray(new KeyRef[0]);
      GoSort.sort(sorted, this::compareKeys);
      for (int x = 1; x < sorted.length; x++) {
        if (compareKeys(sorted[x - 1], sorted[x]) == 0) {
          dupKey = sorted[x];
          dupAt = keyOffset(sorted[x]);
          return;
        }
      }
    }

    /** Where a key is in the input; unescaped keys report the scan position instead. */
    int keyOffset(KeyRef r) {
      return r.unescaped ? i : r.off - 1;
    }

    /** Scans a string at i; returns whether it had escape sequences (err says whether it failed). */
    boolean str() {
      boolean esc = false;
      int j = i + 1;
      for (;;) {
        while (j < b.length && strSafe(b[j])) {
          j++;
        }
        if (j >= b.length) {
          i = j;
          fail(SYN_EOF);
          return esc;
        }
        byte c = b[j];
        if (c == '"') {
          i = j + 1;
          lastEsc = esc;
          return esc;
        } else if (c == '\\') {
          esc = true;
          if (j + 1 >= b.length) {
            i = b.length;
            fail(SYN_EOF);
            return esc;
          }
          switch (b[j + 1]) {
            case '"', '\\', '/', 'b', 'f', 'n', 'r', 't' -> j += 2;
            case 'u' -> {
              if (j + 6 > b.length || !isHex(b[j + 2]) || !isHex(b[j + 3]) || !isHex(b[j + 4]) || !isHex(b[j + 5])) {
                i = j;
                fail(SYN_ESCAPE);
                return esc;
              }
              j += 6;
            }
            default -> {
              i = j;
              fail(SYN_ESCAPE);
              return esc;
            }
          }
        } else {
          i = j;
          fail(SYN_CONTROL);
          return esc;
        }
      }
    }

    /** Scans a number; returns whether it is an integer (err says whether it failed). */
    boolean number() {
      int j = i;
      if (b[j] == '-') {
        j++;
      }
      if (j < b.length && b[j] == '0') {
        j++;
      } else if (j < b.length && b[j] >= '1' && b[j] <= '9') {
        j = digits(j + 1);
      } else {
        i = j;
        fail(SYN_NUMBER);
        return false;
      }
      boolean isInt = true;
      if (j < b.length && b[j] == '.') {
        isInt = false;
        j++;
        if (j >= b.length || !isDigit(b[j])) {
          i = j;
          fail(SYN_NUMBER);
          return false;
        }
        j = digits(j);
      }
      if (j < b.length && (b[j] == 'e' || b[j] == 'E')) {
        isInt = false;
        j++;
        if (j < b.length && (b[j] == '+' || b[j] == '-')) {
          j++;
        }
        if (j >= b.length || !isDigit(b[j])) {
          i = j;
          fail(SYN_NUMBER);
          return false;
        }
        j = digits(j);
      }
      i = j;
      return isInt;
    }

    int digits(int j) {
      while (j < b.length && isDigit(b[j])) {
        j++;
      }
      return j;
    }

    boolean literal(String word) {
      if (b.length - i < word.length() || !equalsAscii(b, i, i + word.length(), word)) {
        // Point at the first byte that differs.
        for (int k = 0; k < word.length() && i < b.length && b[i] == word.charAt(k); k++) {
          i++;
        }
        if (i >= b.length) {
          return fail(SYN_EOF);
        }
        return fail(SYN_LITERAL);
      }
      i += word.length();
      return true;
    }

    /** eventID: the unescaped id if it is valid, else null. */
    byte[] eventID() {
      Field f = id;
      if (f.kind != STRING || f.count != 1 || f.end - f.start <= 2) {
        return null;
      }
      if (!f.esc) {
        return Arrays.copyOfRange(b, f.start + 1, f.end - 1);
      }
      Buf u = new Buf(f.end - f.start);
      Text.appendUnescaped(u, b, f.start + 1, f.end - 1);
      return u.toArray();
    }

    private int msgStart;

    private Buf problem(Buf msg, String name) {
      if (msg.n > msgStart) {
        msg.ascii("; ");
      }
      return msg.ascii("field \"").ascii(name).ascii("\": ");
    }

    /**
     * validate: checks the scanned event against the contract; returns the
     * timestamp and appends the problems found to msg, joined by "; ", in
     * field order.
     */
    long validate(Buf msg, int top) {
      if (top != OBJECT) {
        msg.ascii("the event must be a JSON object, got ").ascii(noun(top));
        return 0;
      }
      msgStart = msg.n;
      Field[] fs = {id, typ};
      String[] names = {"id", "type"};
      for (int k = 0; k < 2; k++) {
        Field f = fs[k];
        if (f.count > 1) {
          problem(msg, names[k]).ascii("appears more than once");
        } else if (f.kind == NONE) {
          problem(msg, names[k]).ascii("is required");
        } else if (f.kind != STRING) {
          problem(msg, names[k]).ascii("must be a non-empty string, got ").ascii(noun(f.kind));
        } else if (f.end - f.start == 2) {
          problem(msg, names[k]).ascii("must be a non-empty string, got an empty string");
        }
      }

      long t = 0;
      if (ts.count > 1) {
        problem(msg, "timestamp").ascii("appears more than once");
      } else if (ts.kind == NONE) {
        problem(msg, "timestamp").ascii("is required");
      } else if (ts.kind != NUMBER) {
        problem(msg, "timestamp").ascii("must be an integer number of epoch milliseconds, got ").ascii(noun(ts.kind));
      } else {
        long v = parseTimestamp(b, ts.start, ts.end);
        if (v < 0) {
          problem(msg, "timestamp").ascii(TIMESTAMP_PROBLEMS[(int) -v - 1]);
          int n = ts.end - ts.start;
          if (n <= 40) {
            msg.add(b, ts.start, ts.end);
          } else {
            msg.add(b, ts.start, ts.start + 40).ascii("...");
          }
        } else {
          t = v;
        }
      }

      if (data.count > 1) {
        problem(msg, "data").ascii("appears more than once");
      } else if (data.kind != NONE && data.kind != OBJECT && data.kind != NULL) {
        problem(msg, "data").ascii("must be an object or null, got ").ascii(noun(data.kind));
      } else if (dupAt >= 0) {
        problem(msg, "data").ascii("has a repeated key ").add('"');
        Text.appendEscaped(msg, keyArray(dupKey), dupKey.off, dupKey.off + dupKey.n, 64);
        msg.ascii("\" at offset ").decimal(dupAt)
            .ascii("; keys must be unique so the output has no duplicate keys");
      }
      return t;
    }

    /** syntaxMessage: the message for the scanner's syntax error. */
    Buf syntaxMessage(Buf msg) {
      int at = errAt;
      switch (err) {
        case SYN_NO_VALUE:
          return msg.ascii("no JSON value: the value is only whitespace");
        case SYN_DEPTH:
          return msg.ascii("nesting deeper than ").decimal(MAX_DEPTH).ascii(" levels at offset ").decimal(at);
        case SYN_CONTROL:
          msg.ascii("unescaped control character ");
          appendChar(msg, b, at);
          return msg.ascii(" in a string at offset ").decimal(at);
        case SYN_ESCAPE:
          return msg.ascii("invalid escape sequence in a string at offset ").decimal(at);
        default:
          break;
      }
      if (at >= b.length) {
        msg.ascii("unexpected end of JSON input");
        if (err != SYN_EOF) {
          // Ran out while looking for something specific.
          msg.ascii(", ").ascii(expecting(err));
        }
        return msg;
      }
      if (err == SYN_TRAILING) {
        msg.ascii("unexpected data after the JSON value at offset ").decimal(at).ascii(": ");
        appendChar(msg, b, at);
        return msg;
      }
      msg.ascii("invalid character ");
      appendChar(msg, b, at);
      msg.ascii(" at offset ").decimal(at).ascii(", ");
      return msg.ascii(expecting(err));
    }
  }

  private static String expecting(int code) {
    return switch (code) {
      case SYN_KEY_START -> "expecting a string for an object key";
      case SYN_COLON -> "expecting ':' after an object key";
      case SYN_OBJECT_NEXT -> "expecting ',' or '}' after an object member";
      case SYN_ARRAY_NEXT -> "expecting ',' or ']' after an array element";
      case SYN_LITERAL -> "in a literal (true, false or null)";
      case SYN_NUMBER -> "in a number";
      default -> "expecting a JSON value";
    };
  }

  private static final byte[] UPPER_HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);

  /** appendChar: the character at b[at] (valid UTF-8) for a message: 'x' when printable, else U+000A. */
  static void appendChar(Buf msg, byte[] b, int at) {
    int d = Text.decodeRune(b, at, b.length);
    int r = Text.runeOf(d);
    if (r != '\'' && r != Text.RUNE_ERROR && Text.isPrint(r)) {
      msg.add('\'');
      Text.appendRune(msg, r);
      msg.add('\'');
      return;
    }
    msg.ascii("U+").add(UPPER_HEX[r >> 12 & 0xf]).add(UPPER_HEX[r >> 8 & 0xf])
        .add(UPPER_HEX[r >> 4 & 0xf]).add(UPPER_HEX[r & 0xf]);
  }

  private static final String[] TIMESTAMP_PROBLEMS = {
    "must be an integer number of epoch milliseconds (no fraction or exponent), got ",
    "must not be negative, got ",
    "must be at most 253402300799999 (9999-12-31T23:59:59.999Z), got ",
  };

  /**
   * parseTimestamp: the value of the JSON number text b[from:to] if it is a
   * valid timestamp, else -1, -2 or -3 for the problem in TIMESTAMP_PROBLEMS
   * (to be followed by the text).
   */
  static long parseTimestamp(byte[] b, int from, int to) {
    for (int k = from; k < to; k++) {
      byte c = b[k];
      if (c == '.' || c == 'e' || c == 'E') {
        return -1;
      }
    }
    boolean neg = b[from] == '-';
    if (neg) {
      from++;
    }
    if (to - from > "253402300799999".length()) {
      return neg ? -2 : -3;
    }
    long v = 0;
    for (int k = from; k < to; k++) {
      v = v * 10 + (b[k] - '0');
    }
    if (neg && v != 0) {
      return -2;
    }
    if (v > MAX_TIMESTAMP) {
      return -3;
    }
    return v;
  }

  static boolean equalsAscii(byte[] b, int from, int to, String s) {
    if (to - from != s.length()) {
      return false;
    }
    for (int k = 0; k < s.length(); k++) {
      if (b[from + k] != s.charAt(k)) {
        return false;
      }
    }
    return true;
  }
}
