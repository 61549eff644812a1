package io.vectorsync.config;

import jakarta.validation.constraints.Pattern;
import jakarta.validation.constraints.Size;
import java.util.Locale;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * The type-specific blocks of a backend ({@code vectorsync.backends.<name>.<block>.*}), one record per
 * type family. Each backend reads only the block of its type; {@link BackendLayout} refuses a block that
 * does not match the type. Unset keys fall back to what the backend has always used (the collection or
 * index: the backend name).
 */
public final class BackendBlocks {

    private BackendBlocks() {}

    /**
     * {@code postgres.*}: a table in the primary database or in another PostgreSQL database.
     *
     * @param jdbcUrl JDBC URL of the database holding the table; empty means the primary database (write,
     *     ledger and cursor then share one transaction)
     * @param username user of jdbc-url's database (unused for the primary)
     * @param password password of that user
     * @param table the backend table, optionally schema-qualified; created when missing
     */
    public record Postgres(
            String jdbcUrl,
            String username,
            String password,
            @DefaultValue("replica_chunks")
            @Pattern(regexp = "[a-z_][a-z0-9_]*(\\.[a-z_][a-z0-9_]*)?",
                    message = "must be a lowercase SQL identifier, optionally schema-qualified") String table) {}

    /**
     * {@code webhook.*}: each batch is POSTed as JSON to a receiver, signed with HMAC-SHA256.
     *
     * @param url the receiver's http or https URL
     * @param secret the HMAC-SHA256 key that signs every request, at least 16 characters
     */
    public record Webhook(
            String url,
            @Size(min = 16, message = "must be at least 16 characters (it signs every request with HMAC-SHA256)")
            String secret) {}

    /**
     * {@code search.*}: an OpenSearch or Elasticsearch index (types {@code opensearch} and
     * {@code elasticsearch}).
     *
     * @param url the cluster's http or https URL
     * @param index the index name (default: the backend name); lowercase letters, digits, '.', '_', '-'
     * @param username user for HTTP basic authentication (excludes api-key)
     * @param password password of that user
     * @param apiKey an API key, sent as "Authorization: ApiKey ..." (excludes username/password)
     */
    public record Search(String url, String index, String username, String password, String apiKey) {}

    /**
     * {@code chroma.*}: a Chroma collection, written through its REST API v2.
     *
     * @param url the Chroma server's URL
     * @param apiKey an API key, sent as the x-chroma-token header
     * @param collection the collection name (default: the backend name)
     * @param distance the distance function of a collection the backend creates (an existing collection
     *     keeps its own; a mismatch is logged)
     */
    public record Chroma(
            @DefaultValue("http://127.0.0.1:8000") String url,
            String apiKey,
            String collection,
            @DefaultValue("cosine") Distance distance) {

        public Chroma {
            distance = distance == null ? Distance.COSINE : distance; // an empty value in the configuration
        }
    }

    /**
     * {@code qdrant.*}: points in a Qdrant collection, over its REST API, with cosine distance.
     *
     * @param url the Qdrant server's http or https URL
     * @param apiKey an API key, sent as the api-key header
     * @param collection the collection name (default: the backend name)
     * @param collectionBy a top-level metadata key, e.g. memory_type: a chunk then goes to the collection
     *     {collection}_{value}, created when the value first appears; chunks without the key stay in the
     *     collection; unset: one collection
     * @param deleteMode how a DELETE is written: hard removes the point, soft keeps it marked deleted
     */
    public record Qdrant(
            String url,
            String apiKey,
            String collection,
            String collectionBy,
            @DefaultValue("hard") DeleteMode deleteMode) {

        public Qdrant {
            deleteMode = deleteMode == null ? DeleteMode.HARD : deleteMode; // an empty value in the configuration
        }
    }

    /**
     * {@code neo4j.*}: chunks as nodes and LINK events as relationships, over Bolt.
     *
     * @param url the Bolt URL (bolt://, bolt+s://, neo4j://, neo4j+s://)
     * @param username user for basic authentication; unset: no authentication
     * @param password password of that user
     * @param label the node label of the chunks: letters, digits and underscores, not starting with a digit
     */
    public record Neo4j(
            @DefaultValue("bolt://127.0.0.1:7687") String url,
            String username,
            String password,
            @DefaultValue("Chunk") String label) {}

    /** A Chroma collection's distance function ({@code hnsw:space}). */
    public enum Distance {
        COSINE, L2, IP;

        /** The value Chroma takes, e.g. {@code cosine}. */
        public String value() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** How the Qdrant backend writes a DELETE. */
    public enum DeleteMode { HARD, SOFT }
}
