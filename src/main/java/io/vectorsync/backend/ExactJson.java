package io.vectorsync.backend;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Iterator;
import java.util.Map;

/**
 * Metadata as sent: JSON read with decimals as {@link BigDecimal} (trailing zeros kept), so numbers a
 * double cannot hold ({@code 1e400}, 30 significant digits) reach {@code jsonb} and come back unchanged.
 * Also the checks of what {@code jsonb} cannot hold, so such input is refused with a code before it is
 * written: a NUL character in a string or key, a number beyond PostgreSQL {@code numeric} or longer,
 * written out in full as PostgreSQL prints it, than a reader takes back.
 */
public final class ExactJson {

    /** PostgreSQL numeric: at most 131072 digits before the decimal point and 16383 after. */
    static final int MAX_INTEGER_DIGITS = 131072;
    static final int MAX_SCALE = 16383;

    private ExactJson() {}

    /** The last reader made, for its mapper: the application has one, and delivery reads metadata per change. */
    private static volatile Cached cached;

    private record Cached(ObjectMapper json, ObjectReader reader) {}

    /** A reader of {@code json}'s configuration that keeps decimals exactly (made once per mapper). */
    public static ObjectReader reader(ObjectMapper json) {
        Cached c = cached;
        if (c == null || c.json() != json) {
            c = new Cached(json, json.reader().with(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
                    .without(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES));
            cached = c;
        }
        return c.reader();
    }

    /** What {@code jsonb} cannot hold in {@code n}: the first offending value found. */
    public sealed interface Problem permits Nul, BadNumber {
        /** The JSON path of the value below the checked node, e.g. {@code .a[2].b}. */
        String path();
    }

    /** A NUL character (U+0000) in a string or a key. */
    public record Nul(String path) implements Problem {}

    /** A number beyond PostgreSQL numeric's range or precision. */
    public record BadNumber(String path) implements Problem {}

    /** The first value of {@code n} that {@code jsonb} cannot hold, or null. */
    public static Problem problem(JsonNode n) {
        return problem(n, "");
    }

    private static Problem problem(JsonNode n, String path) {
        if (n.isTextual()) {
            return n.textValue().indexOf('\0') >= 0 ? new Nul(path) : null;
        }
        if (n.isNumber()) {
            return fitsNumeric(n) ? null : new BadNumber(path);
        }
        if (n.isObject()) {
            for (Iterator<Map.Entry<String, JsonNode>> it = n.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> f = it.next();
                String at = path + "." + f.getKey();
                if (f.getKey().indexOf('\0') >= 0) {
                    return new Nul(path);
                }
                Problem p = problem(f.getValue(), at);
                if (p != null) {
                    return p;
                }
            }
        } else if (n.isArray()) {
            for (int i = 0; i < n.size(); i++) {
                Problem p = problem(n.get(i), path + "[" + i + "]");
                if (p != null) {
                    return p;
                }
            }
        }
        return null;
    }

    /**
     * The longest number a reader of the stored metadata takes: PostgreSQL prints numeric without an
     * exponent ({@code 1e1000} comes back as 1001 digits), and Jackson refuses longer number text by default,
     * so a longer plain form would be accepted now and unreadable on every GET and delivery after.
     */
    static final int MAX_PLAIN_LENGTH = com.fasterxml.jackson.core.StreamReadConstraints.DEFAULT_MAX_NUM_LEN;

    private static boolean fitsNumeric(JsonNode n) {
        if (n.isBigDecimal()) {
            BigDecimal d = n.decimalValue();
            long integerDigits = Math.max(1L, (long) d.precision() - d.scale());
            long plain = integerDigits + (d.scale() > 0 ? 1L + d.scale() : 0L) + (d.signum() < 0 ? 1 : 0);
            return d.scale() <= MAX_SCALE && (long) d.precision() - d.scale() <= MAX_INTEGER_DIGITS
                    && plain <= MAX_PLAIN_LENGTH;
        }
        if (n.isBigInteger()) {
            BigInteger i = n.bigIntegerValue();
            return i.abs().toString().length() <= MAX_INTEGER_DIGITS;
        }
        if (n.isFloatingPointNumber()) {
            return Double.isFinite(n.doubleValue());
        }
        return true;
    }
}
