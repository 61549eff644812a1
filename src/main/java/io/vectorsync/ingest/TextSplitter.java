package io.vectorsync.ingest;

import java.util.ArrayList;
import java.util.List;

/**
 * The ingest's splitter (docs/ingest.md): deterministic, so the same text always gives the same chunks,
 * and local, so an edit changes only the chunks around it.
 *
 * <ol>
 *   <li>Line ends are normalised to {@code \n}; paragraphs are separated by one or more blank lines (a line
 *       of spaces and tabs only counts as blank); each is stripped of surrounding white space, empty ones
 *       are dropped.
 *   <li>A paragraph of at most {@code maxChars} characters (UTF-16 units) is one chunk. Paragraphs are never
 *       merged: inserting one leaves every other paragraph's chunks as they were.
 *   <li>A longer paragraph is cut into sentences (after {@code . ! ? …} and their CJK forms, with any closing
 *       quotes or brackets, followed by white space); a sentence longer than {@code maxChars} is cut at the
 *       last white space before the budget, a word longer than it at the budget (never inside a surrogate
 *       pair).
 *   <li>Sentences are packed greedily into chunks of at most {@code maxChars}; each chunk after the first of
 *       a paragraph starts with the last whole sentences of the previous one that fit in
 *       {@code overlapChars} (none when even the last sentence is longer, or when the overlap would leave no
 *       room for a new sentence). Each chunk is the exact text of the paragraph between its first and last
 *       sentence.
 * </ol>
 *
 * Nothing depends on the locale, the JDK's break iterators or the platform.
 */
public final class TextSplitter {

    public static final int DEFAULT_MAX_CHARS = 1000;
    public static final int DEFAULT_OVERLAP_CHARS = 200;

    private final int maxChars;
    private final int overlapChars;

    public TextSplitter(int maxChars, int overlapChars) {
        if (maxChars < 1 || overlapChars < 0 || overlapChars >= maxChars) {
            throw new IllegalArgumentException("maxChars must be positive and overlapChars in [0, maxChars)");
        }
        this.maxChars = maxChars;
        this.overlapChars = overlapChars;
    }

    /** The chunks' texts in document order. */
    public List<String> split(String text) {
        List<String> out = new ArrayList<>();
        String t = text.replace("\r\n", "\n").replace('\r', '\n');
        for (String paragraph : t.split("\n[ \t]*\n")) {
            String p = paragraph.strip();
            if (p.isEmpty()) {
                continue;
            }
            if (p.length() <= maxChars) {
                out.add(p);
            } else {
                pack(p, units(p), out);
            }
        }
        return out;
    }

    /** Sentences (or pieces of an over-long one) as [start, end) spans of {@code p}, each at most maxChars. */
    private List<int[]> units(String p) {
        List<int[]> spans = new ArrayList<>();
        int start = 0;
        int n = p.length();
        int i = 0;
        while (i < n) {
            char c = p.charAt(i);
            i++;
            if (terminal(c)) {
                while (i < n && closing(p.charAt(i))) {
                    i++;
                }
                if (i < n && Character.isWhitespace(p.charAt(i))) {
                    int end = i;
                    while (i < n && Character.isWhitespace(p.charAt(i))) {
                        i++;
                    }
                    addSentence(p, start, end, spans);
                    start = i;
                }
            }
        }
        if (start < n) {
            addSentence(p, start, n, spans);
        }
        return spans;
    }

    private void addSentence(String p, int start, int end, List<int[]> spans) {
        while (end - start > maxChars) {
            int cut = start + maxChars;
            int ws = cut;
            while (ws > start && !Character.isWhitespace(p.charAt(ws))) {
                ws--;
            }
            if (ws > start) {
                cut = ws; // the white space ends this piece; the next starts after it
            } else if (Character.isLowSurrogate(p.charAt(cut)) && Character.isHighSurrogate(p.charAt(cut - 1))) {
                cut--;
            }
            spans.add(new int[] {start, trimEnd(p, start, cut)});
            start = cut;
            while (start < end && Character.isWhitespace(p.charAt(start))) {
                start++;
            }
        }
        if (end > start) {
            spans.add(new int[] {start, trimEnd(p, start, end)});
        }
    }

    private static int trimEnd(String p, int start, int end) {
        while (end > start && Character.isWhitespace(p.charAt(end - 1))) {
            end--;
        }
        return end;
    }

    private void pack(String p, List<int[]> u, List<String> out) {
        int i = 0;
        int n = u.size();
        while (i < n) {
            int j = i;
            while (j + 1 < n && u.get(j + 1)[1] - u.get(i)[0] <= maxChars) {
                j++;
            }
            out.add(p.substring(u.get(i)[0], u.get(j)[1]));
            if (j == n - 1) {
                return;
            }
            int k = j + 1;
            while (k - 1 > i && u.get(j)[1] - u.get(k - 1)[0] <= overlapChars
                    && u.get(j + 1)[1] - u.get(k - 1)[0] <= maxChars) {
                k--;
            }
            i = k;
        }
    }

    private static boolean terminal(char c) {
        return c == '.' || c == '!' || c == '?' || c == '\u2026' || c == '\u3002' || c == '\uFF01' || c == '\uFF1F';
    }

    private static boolean closing(char c) {
        return c == '"' || c == '\'' || c == ')' || c == ']' || c == '\u201D' || c == '\u2019' || c == '\u00BB';
    }
}
