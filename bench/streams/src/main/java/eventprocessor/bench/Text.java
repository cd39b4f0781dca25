package eventprocessor.bench;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * The byte-level pieces of the event contract as the processor writes them
 * (schema/encode.go and the UTF-8 rules of Go's unicode/utf8): decoding and
 * validating UTF-8, unescaping and escaping JSON strings, compacting values
 * and formatting the processing time. Each follows its Go original line by
 * line, so that the events built from them are the processor's bytes.
 */
final class Text {
  private Text() {}

  static final int RUNE_ERROR = 0xFFFD;
  private static final byte[] HEX = "0123456789abcdef".getBytes(StandardCharsets.US_ASCII);

  /**
   * Decodes the UTF-8 sequence at b[i] (b ends at end) as Go's
   * utf8.DecodeRune does: the rune in the low 24 bits and its size in the top
   * 8; an invalid sequence is RUNE_ERROR of size 1.
   */
  static int decodeRune(byte[] b, int i, int end) {
    int c = b[i] & 0xff;
    if (c < 0x80) {
      return 1 << 24 | c;
    }
    int need;
    int lo = 0x80;
    int hi = 0xbf;
    int r;
    if (c >= 0xc2 && c <= 0xdf) {
      need = 1;
      r = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      r = c & 0x0f;
      if (c == 0xe0) {
        lo = 0xa0;
      } else if (c == 0xed) {
        hi = 0x9f;
      }
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      r = c & 0x07;
      if (c == 0xf0) {
        lo = 0x90;
      } else if (c == 0xf4) {
        hi = 0x8f;
      }
    } else {
      return 1 << 24 | RUNE_ERROR;
    }
    if (i + need >= end) {
      return 1 << 24 | RUNE_ERROR;
    }
    int c1 = b[i + 1] & 0xff;
    if (c1 < lo || c1 > hi) {
      return 1 << 24 | RUNE_ERROR;
    }
    r = r << 6 | (c1 & 0x3f);
    for (int k = 2; k <= need; k++) {
      int ck = b[i + k] & 0xff;
      if (ck < 0x80 || ck > 0xbf) {
        return 1 << 24 | RUNE_ERROR;
      }
      r = r << 6 | (ck & 0x3f);
    }
    return (need + 1) << 24 | r;
  }

  static int runeOf(int decoded) {
    return decoded & 0xffffff;
  }

  static int sizeOf(int decoded) {
    return decoded >>> 24;
  }

  /** The offset of the first byte that does not start valid UTF-8, or -1 (utf8.Valid). */
  static int invalidUtf8At(byte[] b) {
    int end = b.length;
    for (int i = 0; i < end; ) {
      if (b[i] >= 0) {
        i++;
        continue;
      }
      int d = decodeRune(b, i, end);
      if (sizeOf(d) == 1) {
        return i;
      }
      i += sizeOf(d);
    }
    return -1;
  }

  /**
   * For the Jackson paths: -1 when b is valid UTF-8 without a string escape
   * of a UTF-16 surrogate (backslash, u, D800-DFFF), -2 when it is valid but
   * has one (the contract reads lone surrogates as U+FFFD, Jackson keeps
   * them), else the offset of the first invalid byte.
   */
  static int jacksonReadable(byte[] b) {
    int end = b.length;
    boolean surrogate = false;
    for (int i = 0; i < end; ) {
      byte c = b[i];
      if (c >= 0) {
        if (c == '\\' && i + 3 < end && b[i + 1] == 'u' && (b[i + 2] | 0x20) == 'd') {
          int h = b[i + 3] | 0x20;
          surrogate |= h == '8' || h == '9' || (h >= 'a' && h <= 'f');
        }
        i++;
        continue;
      }
      int d = decodeRune(b, i, end);
      if (sizeOf(d) == 1) {
        return i;
      }
      i += sizeOf(d);
    }
    return surrogate ? -2 : -1;
  }

  /** utf8.AppendRune: surrogates and values past U+10FFFF become U+FFFD. */
  static void appendRune(Buf dst, int r) {
    if (r < 0 || r > 0x10ffff || (r >= 0xd800 && r < 0xe000)) {
      r = RUNE_ERROR;
    }
    if (r < 0x80) {
      dst.add((byte) r);
    } else if (r < 0x800) {
      dst.add((byte) (0xc0 | r >> 6)).add((byte) (0x80 | r & 0x3f));
    } else if (r < 0x10000) {
      dst.add((byte) (0xe0 | r >> 12)).add((byte) (0x80 | r >> 6 & 0x3f)).add((byte) (0x80 | r & 0x3f));
    } else {
      dst.add((byte) (0xf0 | r >> 18)).add((byte) (0x80 | r >> 12 & 0x3f))
          .add((byte) (0x80 | r >> 6 & 0x3f)).add((byte) (0x80 | r & 0x3f));
    }
  }

  /** The bytes of s in UTF-8 without making them (headers' keys, topics). */
  static int utf8Length(String s) {
    int n = 0;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c < 0x80) {
        n++;
      } else if (c < 0x800) {
        n += 2;
      } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
        n += 4;
        i++;
      } else {
        n += 3;
      }
    }
    return n;
  }

  static int hex4(byte[] b, int i) {
    int r = 0;
    for (int k = i; k < i + 4; k++) {
      int c = b[k] & 0xff;
      c = c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
      r = r << 4 | c;
    }
    return r;
  }

  /**
   * appendUnescaped: the value of the contents s[from:to] of a well-formed
   * JSON string. Unpaired surrogates become U+FFFD, as in Go's encoding/json.
   */
  static void appendUnescaped(Buf dst, byte[] s, int from, int to) {
    for (int i = from; i < to; ) {
      if (s[i] != '\\') {
        int j = i + 1;
        while (j < to && s[j] != '\\') {
          j++;
        }
        dst.add(s, i, j);
        i = j;
        continue;
      }
      byte c = s[i + 1];
      i += 2;
      switch (c) {
        case 'b' -> dst.add((byte) '\b');
        case 'f' -> dst.add((byte) '\f');
        case 'n' -> dst.add((byte) '\n');
        case 'r' -> dst.add((byte) '\r');
        case 't' -> dst.add((byte) '\t');
        case 'u' -> {
          int r = hex4(s, i);
          i += 4;
          if (r >= 0xd800 && r < 0xe000) {
            int r2 = RUNE_ERROR;
            if (i + 6 <= to && s[i] == '\\' && s[i + 1] == 'u') {
              r2 = decodeSurrogates(r, hex4(s, i + 2));
            }
            if (r2 != RUNE_ERROR) {
              i += 6;
            }
            r = r2;
          }
          appendRune(dst, r);
        }
        default -> dst.add(c); // '"', '\\', '/'
      }
    }
  }

  /** utf16.DecodeRune. */
  private static int decodeSurrogates(int r1, int r2) {
    if (r1 >= 0xd800 && r1 < 0xdc00 && r2 >= 0xdc00 && r2 < 0xe000) {
      return ((r1 - 0xd800) << 10 | (r2 - 0xdc00)) + 0x10000;
    }
    return RUNE_ERROR;
  }

  /**
   * appendEscaped: appends s[from:to] as the contents of a JSON string,
   * stopping before the appended text would exceed limit bytes, never
   * splitting a character or an escape. Returns how many bytes of s it
   * consumed. Invalid UTF-8 becomes \ufffd.
   */
  static int appendEscaped(Buf dst, byte[] s, int from, int to, int limit) {
    int n = 0;
    int i = from;
    while (i < to) {
      int c = s[i] & 0xff;
      if (c >= 0x20 && c != '"' && c != '\\' && c < 0x80) {
        if (n + 1 > limit) {
          break;
        }
        dst.add((byte) c);
        n++;
        i++;
        continue;
      }
      if (c < 0x80) {
        int len;
        byte e1;
        switch (c) {
          case '"' -> { len = 2; e1 = '"'; }
          case '\\' -> { len = 2; e1 = '\\'; }
          case '\n' -> { len = 2; e1 = 'n'; }
          case '\r' -> { len = 2; e1 = 'r'; }
          case '\t' -> { len = 2; e1 = 't'; }
          default -> { len = 6; e1 = 'u'; }
        }
        if (n + len > limit) {
          break;
        }
        dst.add((byte) '\\').add(e1);
        if (len == 6) {
          dst.add((byte) '0').add((byte) '0').add(HEX[c >> 4]).add(HEX[c & 0xf]);
        }
        n += len;
        i++;
        continue;
      }
      int d = decodeRune(s, i, to);
      int size = sizeOf(d);
      if (runeOf(d) == RUNE_ERROR && size == 1) {
        if (n + 6 > limit) {
          break;
        }
        dst.ascii("\\ufffd");
        n += 6;
        i++;
        continue;
      }
      if (n + size > limit) {
        break;
      }
      dst.add(s, i, i + size);
      n += size;
      i += size;
    }
    return i - from;
  }

  static int appendEscaped(Buf dst, byte[] s, int limit) {
    return appendEscaped(dst, s, 0, s.length, limit);
  }

  /** escapedLen: the length appendEscaped would produce for valid UTF-8 s, with no limit. */
  static int escapedLen(byte[] s) {
    int n = 0;
    for (byte b : s) {
      int c = b & 0xff;
      if (c == '"' || c == '\\' || c == '\n' || c == '\r' || c == '\t') {
        n += 2;
      } else if (c < 0x20) {
        n += 6;
      } else {
        n++;
      }
    }
    return n;
  }

  /**
   * appendTime: epochMillis in UTC as RFC 3339 with exactly three
   * fractional digits, 2024-12-04T15:30:00.000Z (years 0 to 9999: the
   * processing time is the wall clock).
   */
  static void appendTime(Buf dst, long epochMillis) {
    dst.reserve(24);
    dst.n += formatTime(dst.a, dst.n, epochMillis);
  }

  /** Writes the 24 bytes of appendTime into b at off; returns 24. */
  static int formatTime(byte[] b, int off, long epochMillis) {
    long days = Math.floorDiv(epochMillis, 86_400_000L);
    int msOfDay = (int) Math.floorMod(epochMillis, 86_400_000L);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    long z = days + 719468;
    long era = Math.floorDiv(z, 146097);
    long doe = z - era * 146097;
    long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    long mp = (5 * doy + 2) / 153;
    int day = (int) (doy - (153 * mp + 2) / 5 + 1);
    int month = (int) (mp < 10 ? mp + 3 : mp - 9);
    int year = (int) (yoe + era * 400 + (month <= 2 ? 1 : 0));
    if (year < 0 || year > 9999) {
      throw new IllegalArgumentException("processing time out of range: " + epochMillis);
    }
    int hour = msOfDay / 3_600_000;
    int min = msOfDay / 60_000 % 60;
    int sec = msOfDay / 1000 % 60;
    int ms = msOfDay % 1000;
    int i = off;
    b[i++] = (byte) ('0' + year / 1000);
    b[i++] = (byte) ('0' + year / 100 % 10);
    b[i++] = (byte) ('0' + year / 10 % 10);
    b[i++] = (byte) ('0' + year % 10);
    b[i++] = '-';
    b[i++] = (byte) ('0' + month / 10);
    b[i++] = (byte) ('0' + month % 10);
    b[i++] = '-';
    b[i++] = (byte) ('0' + day / 10);
    b[i++] = (byte) ('0' + day % 10);
    b[i++] = 'T';
    b[i++] = (byte) ('0' + hour / 10);
    b[i++] = (byte) ('0' + hour % 10);
    b[i++] = ':';
    b[i++] = (byte) ('0' + min / 10);
    b[i++] = (byte) ('0' + min % 10);
    b[i++] = ':';
    b[i++] = (byte) ('0' + sec / 10);
    b[i++] = (byte) ('0' + sec % 10);
    b[i++] = '.';
    b[i++] = (byte) ('0' + ms / 100);
    b[i++] = (byte) ('0' + ms / 10 % 10);
    b[i++] = (byte) ('0' + ms % 10);
    b[i++] = 'Z';
    return i - off;
  }

  static boolean isSpace(byte c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  }

  /** appendCompact: the well-formed JSON value v[from:to] without its insignificant whitespace. */
  static void appendCompact(Buf dst, byte[] v, int from, int to) {
    int start = from;
    for (int i = from; i < to; i++) {
      switch (v[i]) {
        case ' ', '\t', '\n', '\r' -> {
          dst.add(v, start, i);
          start = i + 1;
        }
        case '"' -> {
          // Skip the string: find the closing quote, past escapes.
          for (i++; v[i] != '"'; i++) {
            if (v[i] == '\\') {
              i++;
            }
          }
        }
        default -> {}
      }
    }
    dst.add(v, start, to);
  }

  // Go's unicode.IsPrint, from a table generated with the processor's Go
  // toolchain (testdata/gen), so that messages name characters as it does
  // whatever Unicode version this JVM knows.
  private static final int[] PRINT_FROM;
  private static final int[] PRINT_TO;

  static {
    int[] from = new int[1024];
    int[] to = new int[1024];
    int n = 0;
    try (InputStream in = Text.class.getResourceAsStream("isprint.txt")) {
      if (in == null) {
        throw new IllegalStateException("isprint.txt is missing from the jar");
      }
      BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII));
      for (String line; (line = r.readLine()) != null; ) {
        if (line.isEmpty() || line.startsWith("#")) {
          continue;
        }
        int sp = line.indexOf(' ');
        if (n == from.length) {
          from = Arrays.copyOf(from, n * 2);
          to = Arrays.copyOf(to, n * 2);
        }
        from[n] = Integer.parseInt(line.substring(0, sp), 16);
        to[n] = Integer.parseInt(line.substring(sp + 1), 16);
        n++;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    PRINT_FROM = Arrays.copyOf(from, n);
    PRINT_TO = Arrays.copyOf(to, n);
  }

  /** unicode.IsPrint. */
  static boolean isPrint(int r) {
    int i = Arrays.binarySearch(PRINT_FROM, r);
    if (i >= 0) {
      return true;
    }
    i = -i - 2; // the range starting below r
    return i >= 0 && r <= PRINT_TO[i];
  }
}
