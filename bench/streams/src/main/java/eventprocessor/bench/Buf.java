package eventprocessor.bench;

import java.util.Arrays;

/** A growable byte buffer: the Java form of the Go code's append(dst, ...). */
final class Buf {
  byte[] a;
  int n;

  Buf(int capacity) {
    a = new byte[Math.max(capacity, 16)];
  }

  void reserve(int more) {
    if (n + more > a.length) {
      a = Arrays.copyOf(a, Math.max(a.length * 2, n + more));
    }
  }

  Buf add(byte c) {
    reserve(1);
    a[n++] = c;
    return this;
  }

  Buf add(char c) {
    return add((byte) c);
  }

  Buf add(byte[] b) {
    return add(b, 0, b.length);
  }

  Buf add(byte[] b, int from, int to) {
    int len = to - from;
    reserve(len);
    System.arraycopy(b, from, a, n, len);
    n += len;
    return this;
  }

  Buf add(Buf b) {
    return add(b.a, 0, b.n);
  }

  /** Appends s, which must be ASCII (every message text of the contract is). */
  Buf ascii(String s) {
    int len = s.length();
    reserve(len);
    for (int i = 0; i < len; i++) {
      a[n++] = (byte) s.charAt(i);
    }
    return this;
  }

  Buf decimal(long v) {
    return ascii(Long.toString(v));
  }

  byte[] toArray() {
    return Arrays.copyOf(a, n);
  }

  byte[] toArray(int from) {
    return Arrays.copyOfRange(a, from, n);
  }
}
