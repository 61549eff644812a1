package io.vectorsync.config;

import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;

/**
 * {@code vectorsync.embedded.*}: the in-process PostgreSQL started when no {@code spring.datasource.url}
 * is set. Read by {@code EmbeddedPostgresEnvironment} before the application context exists.
 *
 * @param enabled false refuses to start without a configured database instead of starting one
 * @param dataDir the embedded database's data directory; it survives restarts
 * @param port the embedded database's port; 0 picks a free one
 */
@ConfigurationProperties("vectorsync.embedded")
public record EmbeddedProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("data/postgres") String dataDir,
        @DefaultValue("0") int port) {}
