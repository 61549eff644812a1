package io.vectorsync.config;

import jakarta.validation.Valid;
import jakarta.validation.constraints.DecimalMax;
import jakarta.validation.constraints.DecimalMin;
import jakarta.validation.constraints.Min;
import jakarta.validation.constraints.NotNull;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.boot.context.properties.bind.DefaultValue;
import org.springframework.validation.annotation.Validated;

/**
 * {@code vectorsync.alerts.*}: thresholds of the alerts per backend, with per-backend overrides under
 * {@code vectorsync.alerts.backends.<name>.*}; validated at start-up. An alert fires when its value
 * reaches the threshold and clears when it is back under.
 *
 * @param enabled false evaluates no alert
 * @param evaluateInterval how often the alerts are evaluated
 * @param lagSeconds a backend's lag, in seconds, at which its lag alert fires
 * @param deadLetters a backend's dead letters at which its dead-letter alert fires
 * @param failureRate the share of failed deliveries in failure-window at which the failure alert fires
 * @param failureWindow the window of the failure rate
 * @param failureMinAttempts deliveries in the window before the failure rate counts
 * @param noProgress how long a backend with a backlog may go without delivering before its alert fires
 * @param syncStuck how long a device's local queue may wait with no successful upload to the remote before
 *     the sync-stuck alert fires: on the device itself and in Prometheus (deploy/prometheus/alerts.yml,
 *     VectorsyncSyncStuck), on the same condition
 * @param jobsStale how long the oldest due pending job of a type may wait before the jobs-stale alert fires
 *     (Prometheus only: deploy/prometheus/alerts.yml, VectorsyncJobsStale)
 * @param webhookUrl an http or https URL that receives each alert firing and clearing as JSON; unset: none
 * @param webhookTimeout how long posting to webhook-url may take (at most 30s)
 * @param backends per-backend overrides of the thresholds, by backend name
 */
@Validated
@ConfigurationProperties("vectorsync.alerts")
public record AlertProperties(
        @DefaultValue("true") boolean enabled,
        @DefaultValue("5s") @NotNull Duration evaluateInterval,
        @DefaultValue("300") @Min(1) long lagSeconds,
        @DefaultValue("1") @Min(1) long deadLetters,
        @DefaultValue("0.5") @DecimalMin(value = "0.0", inclusive = false) @DecimalMax("1.0") double failureRate,
        @DefaultValue("5m") @NotNull Duration failureWindow,
        @DefaultValue("3") @Min(1) int failureMinAttempts,
        @DefaultValue("10m") @NotNull Duration noProgress,
        @DefaultValue("15m") @NotNull Duration syncStuck,
        @DefaultValue("15m") @NotNull Duration jobsStale,
        String webhookUrl,
        @DefaultValue("2s") @NotNull Duration webhookTimeout,
        Map<String, @Valid Thresholds> backends) {

    /**
     * One backend's overrides; an unset value falls back to the shared one.
     *
     * @param lagSeconds the backend's lag alert threshold, in seconds
     * @param deadLetters the backend's dead-letter alert threshold
     * @param failureRate the backend's failure-rate alert threshold
     * @param noProgress the backend's no-progress alert threshold
     */
    public record Thresholds(
            @Min(1) Long lagSeconds,
            @Min(1) Long deadLetters,
            @DecimalMin(value = "0.0", inclusive = false) @DecimalMax("1.0") Double failureRate,
            Duration noProgress) {}

    /** The thresholds in force for one backend. */
    public record Effective(long lagSeconds, long deadLetters, double failureRate, Duration noProgress) {}

    public AlertProperties {
        backends = backends == null ? new LinkedHashMap<>() : new LinkedHashMap<>(backends);
        positive("vectorsync.alerts.evaluate-interval", evaluateInterval, Duration.ofMillis(100));
        positive("vectorsync.alerts.failure-window", failureWindow, Duration.ofSeconds(1));
        positive("vectorsync.alerts.no-progress", noProgress, Duration.ofSeconds(1));
        positive("vectorsync.alerts.sync-stuck", syncStuck, Duration.ofSeconds(1));
        positive("vectorsync.alerts.jobs-stale", jobsStale, Duration.ofSeconds(1));
        positive("vectorsync.alerts.webhook-timeout", webhookTimeout, Duration.ofMillis(100));
        if (webhookTimeout.compareTo(Duration.ofSeconds(30)) > 0) {
            throw new IllegalArgumentException("vectorsync.alerts.webhook-timeout must be at most 30s (was "
                    + webhookTimeout + ")");
        }
        if (webhookUrl != null && !webhookUrl.isBlank()) {
            URI uri;
            try {
                uri = URI.create(webhookUrl);
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("vectorsync.alerts.webhook-url must be an absolute http or https URL");
            }
            if (uri.getScheme() == null || !(uri.getScheme().equals("http") || uri.getScheme().equals("https"))
                    || uri.getHost() == null) {
                throw new IllegalArgumentException("vectorsync.alerts.webhook-url must be an absolute http or https URL");
            }
        }
        backends.forEach((name, t) -> {
            if (t != null && t.noProgress() != null) {
                positive("vectorsync.alerts.backends." + name + ".no-progress", t.noProgress(), Duration.ofSeconds(1));
            }
        });
    }

    private static void positive(String path, Duration d, Duration min) {
        if (d.compareTo(min) < 0) {
            throw new IllegalArgumentException(path + " must be at least " + min.toMillis() + "ms (was " + d + ")");
        }
    }

    public boolean hasWebhook() {
        return webhookUrl != null && !webhookUrl.isBlank();
    }

    public Effective of(String backend) {
        Thresholds t = backends.get(backend);
        if (t == null) {
            return new Effective(lagSeconds, deadLetters, failureRate, noProgress);
        }
        return new Effective(
                t.lagSeconds() != null ? t.lagSeconds() : lagSeconds,
                t.deadLetters() != null ? t.deadLetters() : deadLetters,
                t.failureRate() != null ? t.failureRate() : failureRate,
                t.noProgress() != null ? t.noProgress() : noProgress);
    }
}
