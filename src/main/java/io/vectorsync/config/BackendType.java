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
    POSTGRES("postgres", BackendBlocks.Postgres.class),
    WEBHOOK("webhook", BackendBlocks.Webhook.class),
    OPENSEARCH("search", BackendBlocks.Search.class),
    ELASTICSEARCH("search", BackendBlocks.Search.class),
    CHROMA("chroma", BackendBlocks.Chroma.class),
    QDRANT("qdrant", BackendBlocks.Qdrant.class),
    NEO4J("neo4j", BackendBlocks.Neo4j.class);

    private final String block;
    private final Class<? extends Record> blockType;

    BackendType(String block, Class<? extends Record> blockType) {
        this.block = block;
        this.blockType = blockType;
    }

    /** The record of this type's block, whose components are the block's keys. */
    public Class<? extends Record> blockType() {
        return blockType;
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
