package io.vectorsync.config;

import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * {@code vectorsync.metrics.*}: how often the relay's state per backend (backlog, lag, parked, dead
 * letters, cursor) is read from the database for the gauges, health and alerts. One statement per refresh.
 *
 * @param refreshInterval how often the relay's state per backend is read (100ms to 1h)
 */
@Validated
@ConfigurationProperties("vectorsync.metrics")
public record MetricsProperties(@DefaultValue("5s") @NotNull Duration refreshInterval) {

    public MetricsProperties {
        if (refreshInterval.compareTo(Duration.ofMillis(100)) < 0 || refreshInterval.compareTo(Duration.ofHours(1)) > 0) {
            throw new IllegalArgumentException(
                    "vectorsync.metrics.refresh-interval must be between 100ms and 1h (was " + refreshInterval + ")");
        }
    }
}
