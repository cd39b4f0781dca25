package eventprocessor.bench;

import java.util.Comparator;

/**
 * Go's slices.SortFunc (pattern-defeating quicksort, slices/zsortanyfunc.go),
 * step for step. It is not stable, and which of two equal keys ends up
 * second decides the offset a duplicate-key message reports, so the
 * contract needs Go's exact order, not any correct sort.
 */
final class GoSort {
  private GoSort() {}

  private static final int UNKNOWN_HINT = 0;
  private static final int INCREASING_HINT = 1;
  private static final int DECREASING_HINT = 2;

  static <E> void sort(E[] x, Comparator<? super E> cmp) {
    int n = x.length;
    pdqsort(x, 0, n, bitsLen(n), cmp);
  }

  private static int bitsLen(int n) {
    return 32 - Integer.numberOfLeadingZeros(n);
  }

  private static <E> void swap(E[] d, int i, int j) {
    E t = d[i];
    d[i] = d[j];
    d[j] = t;
  }

  private static <E> boolean less(E[] d, int i, int j, Comparator<? super E> cmp) {
    return cmp.compare(d[i], d[j]) < 0;
  }

  private static <E> void insertionSort(E[] d, int a, int b, Comparator<? super E> cmp) {
    for (int i = a + 1; i < b; i++) {
      for (int j = i; j > a && less(d, j, j - 1, cmp); j--) {
        swap(d, j, j - 1);
      }
    }
  }

  private static <E> void siftDown(E[] d, int lo, int hi, int first, Comparator<? super E> cmp) {
    int root = lo;
    for (;;) {
      int child = 2 * root + 1;
      if (child >= hi) {
        break;
      }
      if (child + 1 < hi && less(d, first + child, first + child + 1, cmp)) {
        child++;
      }
      if (!less(d, first + root, first + child, cmp)) {
        return;
      }
      swap(d, first + root, first + child);
      root = child;
    }
  }

  private static <E> void heapSort(E[] d, int a, int b, Comparator<? super E> cmp) {
    int first = a;
    int lo = 0;
    int hi = b - a;
    for (int i = (hi - 1) / 2; i >= 0; i--) {
      siftDown(d, i, hi, first, cmp);
    }
    for (int i = hi - 1; i >= 0; i--) {
      swap(d, first, first + i);
      siftDown(d, lo, i, first, cmp);
    }
  }

  private static <E> void pdqsort(E[] d, int a, int b, int limit, Comparator<? super E> cmp) {
    final int maxInsertion = 12;
    boolean wasBalanced = true;
    boolean wasPartitioned = true;
    for (;;) {
      int length = b - a;
      if (length <= maxInsertion) {
        insertionSort(d, a, b, cmp);
        return;
      }
      if (limit == 0) {
        heapSort(d, a, b, cmp);
        return;
      }
      if (!wasBalanced) {
        breakPatterns(d, a, b);
        limit--;
      }
      long ph = choosePivot(d, a, b, cmp);
      int pivot = (int) (ph >> 32);
      int hint = (int) ph;
      if (hint == DECREASING_HINT) {
        reverseRange(d, a, b);
        pivot = (b - 1) - (pivot - a);
        hint = INCREASING_HINT;
      }
      if (wasBalanced && wasPartitioned && hint == INCREASING_HINT) {
        if (partialInsertionSort(d, a, b, cmp)) {
          return;
        }
      }
      if (a > 0 && !less(d, a - 1, pivot, cmp)) {
        a = partitionEqual(d, a, b, pivot, cmp);
        continue;
      }
      long mp = partition(d, a, b, pivot, cmp);
      int mid = (int) (mp >> 32);
      wasPartitioned = (int) mp != 0;
      int leftLen = mid - a;
      int rightLen = b - mid;
      int balanceThreshold = length / 8;
      if (leftLen < rightLen) {
        wasBalanced = leftLen >= balanceThreshold;
        pdqsort(d, a, mid, limit, cmp);
        a = mid + 1;
      } else {
        wasBalanced = rightLen >= balanceThreshold;
        pdqsort(d, mid + 1, b, limit, cmp);
        b = mid;
      }
    }
  }

  /** Returns the new pivot in the high 32 bits and alreadyPartitioned in the low. */
  private static <E> long partition(E[] d, int a, int b, int pivot, Comparator<? super E> cmp) {
    swap(d, a, pivot);
    int i = a + 1;
    int j = b - 1;
    while (i <= j && less(d, i, a, cmp)) {
      i++;
    }
    while (i <= j && !less(d, j, a, cmp)) {
      j--;
    }
    if (i > j) {
      swap(d, j, a);
      return (long) j << 32 | 1;
    }
    swap(d, i, j);
    i++;
    j--;
    for (;;) {
      while (i <= j && less(d, i, a, cmp)) {
        i++;
      }
      while (i <= j && !less(d, j, a, cmp)) {
        j--;
      }
      if (i > j) {
        break;
      }
      swap(d, i, j);
      i++;
      j--;
    }
    swap(d, j, a);
    return (long) j << 32;
  }

  private static <E> int partitionEqual(E[] d, int a, int b, int pivot, Comparator<? super E> cmp) {
    swap(d, a, pivot);
    int i = a + 1;
    int j = b - 1;
    for (;;) {
      while (i <= j && !less(d, a, i, cmp)) {
        i++;
      }
      while (i <= j && less(d, a, j, cmp)) {
        j--;
      }
      if (i > j) {
        break;
      }
      swap(d, i, j);
      i++;
      j--;
    }
    return i;
  }

  private static <E> boolean partialInsertionSort(E[] d, int a, int b, Comparator<? super E> cmp) {
    final int maxSteps = 5;
    final int shortestShifting = 50;
    int i = a + 1;
    for (int step = 0; step < maxSteps; step++) {
      while (i < b && !less(d, i, i - 1, cmp)) {
        i++;
      }
      if (i == b) {
        return true;
      }
      if (b - a < shortestShifting) {
        return false;
      }
      swap(d, i, i - 1);
      if (i - a >= 2) {
        for (int j = i - 1; j >= 1; j--) {
          if (!less(d, j, j - 1, cmp)) {
            break;
          }
          swap(d, j, j - 1);
        }
      }
      if (b - i >= 2) {
        for (int j = i + 1; j < b; j++) {
          if (!less(d, j, j - 1, cmp)) {
            break;
          }
          swap(d, j, j - 1);
        }
      }
    }
    return false;
  }

  private static <E> void breakPatterns(E[] d, int a, int b) {
    int length = b - a;
    if (length >= 8) {
      long random = length; // xorshift
      long modulus = 1L << bitsLen(length);
      for (int idx = a + (length / 4) * 2 - 1; idx <= a + (length / 4) * 2 + 1; idx++) {
        random ^= random << 13;
        random ^= random >>> 7;
        random ^= random << 17;
        int other = (int) (random & (modulus - 1));
        if (other >= length) {
          other -= length;
        }
        swap(d, idx, a + other);
      }
    }
  }

  /** Returns the pivot in the high 32 bits and the hint in the low. */
  private static <E> long choosePivot(E[] d, int a, int b, Comparator<? super E> cmp) {
    final int shortestNinther = 50;
    final int maxSwaps = 4 * 3;
    int l = b - a;
    int[] swaps = {0};
    int i = a + l / 4 * 1;
    int j = a + l / 4 * 2;
    int k = a + l / 4 * 3;
    if (l >= 8) {
      if (l >= shortestNinther) {
        i = medianAdjacent(d, i, swaps, cmp);
        j = medianAdjacent(d, j, swaps, cmp);
        k = medianAdjacent(d, k, swaps, cmp);
      }
      j = median(d, i, j, k, swaps, cmp);
    }
    int hint = swaps[0] == 0 ? INCREASING_HINT : swaps[0] == maxSwaps ? DECREASING_HINT : UNKNOWN_HINT;
    return (long) j << 32 | hint;
  }

  private static <E> int median(E[] d, int a, int b, int c, int[] swaps, Comparator<? super E> cmp) {
    // order2(a, b), order2(b, c), order2(a, b); returns b.
    if (less(d, b, a, cmp)) {
      swaps[0]++;
      int t = a;
      a = b;
      b = t;
    }
    if (less(d, c, b, cmp)) {
      swaps[0]++;
      int t = b;
      b = c;
      c = t;
    }
    if (less(d, b, a, cmp)) {
      swaps[0]++;
      int t = a;
      a = b;
      b = t;
    }
    return b;
  }

  private static <E> int medianAdjacent(E[] d, int a, int[] swaps, Comparator<? super E> cmp) {
    return median(d, a - 1, a, a + 1, swaps, cmp);
  }

  private static <E> void reverseRange(E[] d, int a, int b) {
    int i = a;
    int j = b - 1;
    while (i < j) {
      swap(d, i, j);
      i++;
      j--;
    }
  }
}
