package io.vectorsync.retention;

import jakarta.validation.constraints.Max;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * Retention ({@code vectorsync.retention.*}): delivered outbox events older than {@code outbox-age} and
 * replayed or discarded dead letters older than {@code dead-letter-age} are deleted every {@code interval},
 * {@code batch-size} rows per short transaction. The delivery ledger is never pruned.
 *
 * @param enabled false deletes nothing
 * @param outboxAge delivered outbox events older than this are deleted
 * @param deadLetterAge replayed or discarded dead letters older than this are deleted
 * @param batchSize rows deleted per transaction
 * @param interval how often retention runs
 */
@Validated
@ConfigurationProperties("vectorsync.retention")
public record RetentionProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("7d") @NotNull Duration outboxAge,
        @DefaultValue("30d") @NotNull Duration deadLetterAge,
        @DefaultValue("1000") @Min(1) @Max(100000) int batchSize,
        @DefaultValue("1h") @NotNull Duration interval) {

    public RetentionProperties {
        positive(outboxAge, "outbox-age", Duration.ofMinutes(1));
        positive(deadLetterAge, "dead-letter-age", Duration.ofMinutes(1));
        positive(interval, "interval", Duration.ofSeconds(1));
    }

    private static void positive(Duration d, String name, Duration min) {
        if (d != null && d.compareTo(min) < 0) {
            throw new IllegalArgumentException("vectorsync.retention." + name + " must be at least " + min
                    + " but was " + d);
        }
    }
}
