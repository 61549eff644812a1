package io.vectorsync.config;

import jakarta.validation.constraints.NotNull;
import java.time.Duration;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * {@code vectorsync.jobs.*}: the runner of the admin API's long jobs (verify, backfill).
 *
 * @param staleAfter a RUNNING job whose owner has not renewed it for this long is taken over by another
 *     instance
 * @param pollInterval how often an idle instance looks for a queued job
 */
@Validated
@ConfigurationProperties("vectorsync.jobs")
public record JobsProperties(
        @DefaultValue("60s") @NotNull Duration staleAfter,
        @DefaultValue("2s") @NotNull Duration pollInterval) {}
