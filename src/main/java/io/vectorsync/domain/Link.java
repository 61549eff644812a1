package io.vectorsync.domain;

import java.util.regex.Pattern;

/**
 * A relationship between two chunks, as a LINK event carries it (ADR-008): {@code (from)-[:type]->(to)}
 * with its properties as a JSON object. Links live only in backends that accept them
 * ({@link LinkStore}); each is keyed by edge with its own version, so it never collapses
 * with its endpoints' own events. {@link #toString()} never prints the properties.
 *
 * @param from the chunk id the relationship starts at
 * @param type the relationship type, an identifier {@code [A-Z_][A-Z0-9_]*}
 * @param to the chunk id the relationship ends at
 * @param propertiesJson the relationship's properties as a JSON object ({@code {}} when none)
 */
public record Link(String from, String type, String to, String propertiesJson) {

    /** What a relationship type may look like: it is written into the backend's statements. */
    public static final Pattern TYPE = Pattern.compile("[A-Z_][A-Z0-9_]{0,254}");

    /** The prefix every edge key starts with; chunk ids may not (the outbox refuses them). */
    public static final String KEY_PREFIX = "link:";

    public Link {
        requireId(from, "from");
        requireId(to, "to");
        if (type == null || !TYPE.matcher(type).matches()) {
            throw new IllegalArgumentException("a link's type must be an identifier [A-Z_][A-Z0-9_]* of at most 255 characters");
        }
        propertiesJson = propertiesJson == null ? "{}" : propertiesJson;
    }

    private static void requireId(String id, String what) {
        int n = id == null ? 0 : id.codePointCount(0, id.length());
        if (n < 1 || n > 256) {
            throw new IllegalArgumentException("a link's '" + what + "' must be a chunk id of 1 to 256 characters");
        }
    }

    /**
     * The edge key the ledger, parked and dead-letter rows use: {@code link:<n>:<from>|<type>|<to>} where
     * {@code n} is the length of {@code from} in characters. The length makes the key unambiguous whatever
     * the ids contain (the type has no {@code |}); the prefix keeps it apart from every chunk id. The SQL
     * helper {@code vectorsync.link_key} builds the same text.
     */
    public static String key(String from, String type, String to) {
        return KEY_PREFIX + from.codePointCount(0, from.length()) + ":" + from + "|" + type + "|" + to;
    }

    /**
     * The link an edge key names, with no properties; {@code null} when the text is not an edge key
     * {@link #key(String, String, String)} builds.
     */
    public static Link fromKey(String key) {
        if (key == null || !key.startsWith(KEY_PREFIX)) {
            return null;
        }
        int colon = key.indexOf(':', KEY_PREFIX.length());
        if (colon < 0) {
            return null;
        }
        try {
            int n = Integer.parseInt(key.substring(KEY_PREFIX.length(), colon));
            int fromEnd = key.offsetByCodePoints(colon + 1, n);
            int bar = key.indexOf('|', fromEnd + 1);
            if (n < 1 || fromEnd >= key.length() || key.charAt(fromEnd) != '|' || bar < 0) {
                return null;
            }
            Link l = new Link(key.substring(colon + 1, fromEnd), key.substring(fromEnd + 1, bar),
                    key.substring(bar + 1), "{}");
            return l.key().equals(key) ? l : null;
        } catch (IllegalArgumentException | IndexOutOfBoundsException notAKey) {
            return null;
        }
    }

    /** This link's edge key. */
    public String key() {
        return key(from, type, to);
    }

    @Override
    public String toString() {
        return "Link[(" + from + ")-[:" + type + "]->(" + to + ")]";
    }
}
