package io.vectorsync.config;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/**
 * The value of {@code vectorsync.backends.<name>.type}: which store a backend writes to, and so which
 * nested block ({@link #block()}) holds its type-specific keys. OpenSearch and Elasticsearch share the
 * {@code search} block: the type says the flavor.
 */
public enum BackendType {
    POSTGRES("postgres"),
    WEBHOOK("webhook"),
    OPENSEARCH("search"),
    ELASTICSEARCH("search"),
    CHROMA("chroma"),
    QDRANT("qdrant"),
    NEO4J("neo4j");

    private final String block;

    BackendType(String block) {
        this.block = block;
    }

    /** The name of the nested block of this type's keys, e.g. {@code search} for {@code opensearch}. */
    public String block() {
        return block;
    }

    /** The value as written in the configuration, e.g. {@code opensearch}. */
    public String value() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The allowed values, as written in the configuration: {@code postgres, webhook, ...}. */
    public static String allowed() {
        return Arrays.stream(values()).map(BackendType::value).collect(Collectors.joining(", "));
    }
}
