package io.vectorsync.metrics;

import io.vectorsync.config.AlertProperties;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiFunction;
import java.util.function.Function;

/**
 * The Prometheus alert rules ({@code deploy/prometheus/alerts.yml}) rendered from the thresholds the
 * in-process evaluator uses, {@link AlertProperties} (ADR 021 part 2): one source of truth, so the two
 * cannot drift. The shipped file is the rendering of the defaults and {@code PrometheusAlertRulesTest}
 * fails when it differs; per-backend overrides ({@code vectorsync.alerts.backends.<name>.*}) become a
 * clause of their own per backend. Only the {@code for:} durations are Prometheus's alone: the evaluator
 * fires at the first evaluation over the threshold (its webhook is the fast path), while a page should
 * not follow a blip. Every rule links its runbook in {@code docs/metrics.md}.
 */
public final class PrometheusAlertRules {

    /** The scrape job of {@code deploy/prometheus/prometheus.yml}. */
    static final String JOB = "vectorsync";
    static final String RUNBOOKS = "docs/metrics.md#alert-";
    /** The lag grows by itself while a backend is away; a burst of old events enqueued at once should not page. */
    static final Duration LAG_FOR = Duration.ofMinutes(2);
    /** Already a rate over the failure window; a backend restart inside one window should not page. */
    static final Duration FAILURE_RATE_FOR = Duration.ofMinutes(5);
    /** Already ten minutes without progress; two more scrapes confirm it is not a cursor caught between reads. */
    static final Duration NO_PROGRESS_FOR = Duration.ofMinutes(2);
    /** The queue has already waited sync-stuck; two more scrapes confirm it is not an upload between two reads. */
    static final Duration SYNC_STUCK_FOR = Duration.ofMinutes(2);
    /** The job has already waited jobs-stale; two more scrapes confirm no instance is about to claim it. */
    static final Duration JOBS_STALE_FOR = Duration.ofMinutes(2);
    /** One failed scrape (a restart, a slow GC) should not page; four in a row at 15 s should. */
    static final Duration DOWN_FOR = Duration.ofMinutes(1);

    private PrometheusAlertRules() {}

    /** One rule: its expression for a backend selector and that selector's thresholds. */
    private record Rule(String alert, String code, String severity, Duration holdFor, String comment,
            BiFunction<String, AlertProperties.Effective, String> expr,
            Function<AlertProperties.Thresholds, Object> overridden, String summary, String description) {}

    /** The rules file for these thresholds. */
    public static String render(AlertProperties p) {
        String window = duration(p.failureWindow());
        List<Rule> rules = List.of(
                new Rule("VectorsyncDown", "VSYNC-ALERT-DOWN", "critical", DOWN_FOR,
                        "Prometheus cannot scrape the service (up == 0), or has no target for it at all (absent).",
                        null, null, "Prometheus gets no metrics from vectorsync",
                        "Job " + JOB + " has had no successful scrape for " + duration(DOWN_FOR)
                                + ": the service is down, unreachable, or not in the scrape configuration."),
                new Rule("VectorsyncLag", "VSYNC-ALERT-LAG", "warning", LAG_FOR,
                        "vectorsync.alerts.lag-seconds (" + p.lagSeconds() + "): the oldest undelivered event"
                                + " (backlog or parked) is too old.",
                        (sel, t) -> "max by (backend) (vectorsync_lag_seconds" + sel + ") >= " + t.lagSeconds(),
                        AlertProperties.Thresholds::lagSeconds,
                        "Backend {{ $labels.backend }} lags {{ $value | humanizeDuration }} behind the primary",
                        "The oldest event not yet delivered to {{ $labels.backend }} is older than its lag threshold"
                                + " (vectorsync.alerts.lag-seconds)."),
                new Rule("VectorsyncDeadLetters", "VSYNC-ALERT-DEAD-LETTERS", "warning", null,
                        "vectorsync.alerts.dead-letters (" + p.deadLetters() + "): events that spent their retry"
                                + " budget wait for an operator; they do not go away by themselves, so there is no for.",
                        (sel, t) -> "max by (backend) (vectorsync_dead_letters" + sel + ") >= " + t.deadLetters(),
                        AlertProperties.Thresholds::deadLetters,
                        "Backend {{ $labels.backend }} has {{ $value }} open dead letters",
                        "Replay or discard them (vectorsync replay --backend {{ $labels.backend }})."),
                new Rule("VectorsyncFailureRate", "VSYNC-ALERT-FAILURE-RATE", "warning", FAILURE_RATE_FOR,
                        "vectorsync.alerts.failure-rate (" + number(p.failureRate()) + ") over failure-window ("
                                + window + "), with at least failure-min-attempts (" + p.failureMinAttempts()
                                + ") deliveries: failed batches / (failed + delivered batches).",
                        (sel, t) -> failureRate(sel, window, t.failureRate(), p.failureMinAttempts()),
                        AlertProperties.Thresholds::failureRate,
                        "Deliveries to {{ $labels.backend }} fail ({{ $value | humanizePercentage }} over " + window
                                + ")",
                        "See the backend's lastError in `vectorsync status`."),
                new Rule("VectorsyncNoProgress", "VSYNC-ALERT-NO-PROGRESS", "critical", NO_PROGRESS_FOR,
                        "vectorsync.alerts.no-progress (" + duration(p.noProgress()) + "): the cursor has had a"
                                + " backlog without moving; a paused backend is not expected to move and does not alert.",
                        (sel, t) -> "max by (backend) (vectorsync_stalled_seconds" + sel + ") >= "
                                + t.noProgress().toSeconds() + " and max by (backend) (vectorsync_paused" + sel
                                + ") == 0",
                        AlertProperties.Thresholds::noProgress,
                        "Backend {{ $labels.backend }} made no progress for {{ $value | humanizeDuration }} with a backlog",
                        "Check its circuit, backoff and lease in `vectorsync status`."),
                new Rule("VectorsyncSyncStuck", "VSYNC-ALERT-SYNC-STUCK", "warning", SYNC_STUCK_FOR,
                        "vectorsync.alerts.sync-stuck (" + duration(p.syncStuck()) + "): a device's local queue has"
                                + " entries, the oldest has waited that long and no upload to the remote succeeded for"
                                + " as long; a paused device's sync is not expected to move and does not alert.",
                        (sel, t) -> syncStuck(p.syncStuck().toSeconds()), null,
                        "Device {{ $labels.instance }} has {{ $value }} entries waiting with no upload for "
                                + duration(p.syncStuck()),
                        "Check `vectorsync sync status` on the device: Offline means the remote is unreachable"
                                + " (network, credentials); failed entries need `vectorsync sync retry`."),
                new Rule("VectorsyncJobsStale", "VSYNC-ALERT-JOBS-STALE", "warning", JOBS_STALE_FOR,
                        "vectorsync.alerts.jobs-stale (" + duration(p.jobsStale()) + "): the oldest due pending job"
                                + " of a type has waited that long; no instance claims the type (all stopped, the"
                                + " type disabled, or its concurrency held by stuck jobs).",
                        (sel, t) -> "max by (type) (vectorsync_jobs_oldest_pending_seconds) >= "
                                + p.jobsStale().toSeconds(), null,
                        "{{ $labels.type }} jobs have waited {{ $value | humanizeDuration }} to be claimed",
                        "Check the type's jobs (GET /api/v1/jobs?type={{ $labels.type }}&status=PROCESSING), its"
                                + " vectorsync.jobs.types.<TYPE>.enabled and concurrency, and that an instance runs."));
        StringBuilder out = new StringBuilder("""
                # vectorsync alerts as Prometheus rules. GENERATED by io.vectorsync.metrics.PrometheusAlertRules from
                # the defaults of the in-process evaluator's thresholds (vectorsync.alerts.*, AlertProperties;
                # ADR 021): do not edit. PrometheusAlertRulesTest fails when this file differs; regenerate it with
                #   ./mvnw -B -o -q test -Dtest=PrometheusAlertRulesTest -Dvectorsync.write-alert-rules=true
                # Checked by `promtool check rules` and unit-tested by alerts.test.yml (PrometheusRulesTest).
                groups:
                  - name: vectorsync
                    rules:
                """);
        for (Rule r : rules) {
            out.append("      - alert: ").append(r.alert()).append('\n');
            comment(out, r.comment());
            String expr = r.expr() == null
                    ? "up{job=\"" + JOB + "\"} == 0 or absent(up{job=\"" + JOB + "\"})"
                    : expression(r, p);
            if (expr.contains("\n")) {
                out.append("        expr: |\n");
                expr.lines().forEach(l -> out.append("          ").append(l).append('\n'));
            } else {
                out.append("        expr: ").append(expr).append('\n');
            }
            if (r.holdFor() != null) {
                out.append("        for: ").append(duration(r.holdFor())).append('\n');
            }
            out.append("        labels:\n");
            out.append("          severity: ").append(r.severity()).append('\n');
            out.append("          code: ").append(r.code()).append('\n');
            out.append("        annotations:\n");
            out.append("          summary: ").append(quote(r.summary())).append('\n');
            out.append("          description: ").append(quote(r.description())).append('\n');
            out.append("          runbook_url: ").append(quote(RUNBOOKS + r.alert().toLowerCase(Locale.ROOT))).append('\n');
            if (r != rules.get(rules.size() - 1)) {
                out.append('\n');
            }
        }
        return out.toString();
    }

    /** The shared thresholds for every backend without an override, then one clause per overriding backend. */
    private static String expression(Rule r, AlertProperties p) {
        if (r.overridden() == null) {
            return r.expr().apply("", null); // not a per-backend rule
        }
        List<String> own = new ArrayList<>();
        for (Map.Entry<String, AlertProperties.Thresholds> e : p.backends().entrySet()) {
            if (e.getValue() != null && r.overridden().apply(e.getValue()) != null) {
                own.add(e.getKey());
            }
        }
        AlertProperties.Effective shared = new AlertProperties.Effective(p.lagSeconds(), p.deadLetters(),
                p.failureRate(), p.noProgress());
        if (own.isEmpty()) {
            return r.expr().apply("", shared);
        }
        StringBuilder s = new StringBuilder("(").append(r.expr().apply("{backend!~\"" + String.join("|", own) + "\"}", shared))
                .append(')');
        for (String backend : own) {
            s.append("\nor\n(").append(r.expr().apply("{backend=\"" + backend + "\"}", p.of(backend))).append(')');
        }
        return s.toString();
    }

    /**
     * A device's sync is stuck: entries queued, the oldest older than the threshold, the last successful
     * upload as old (0 before the first: a queue older than the threshold on a device that never uploaded
     * fires too), and the sync not paused. Per scraped device ({@code instance}).
     */
    private static String syncStuck(long seconds) {
        return "max by (instance) (vectorsync_sync_queue_depth) > 0\nand\nmax by (instance)"
                + " (vectorsync_sync_queue_oldest_age_seconds) >= " + seconds + "\nand\nmax by (instance) (time() -"
                + " vectorsync_sync_last_upload_seconds) >= " + seconds + "\nand\nmax by (instance)"
                + " (vectorsync_sync_mode{mode=\"paused\"}) == 0";
    }

    private static String failureRate(String sel, String window, double rate, int minAttempts) {
        String failed = "sum by (backend) (increase(vectorsync_relay_failures_total" + sel + "[" + window + "]))";
        String delivered = "sum by (backend) (increase(vectorsync_relay_delivery_seconds_count" + sel + "[" + window
                + "]))";
        return "(\n    " + failed + "\n  /\n    (\n        " + failed + "\n      + " + delivered + "\n    )\n) >= "
                + number(rate) + "\nand\n(\n    " + failed + "\n  + " + delivered + "\n) >= " + minAttempts;
    }

    private static void comment(StringBuilder out, String text) {
        StringBuilder line = new StringBuilder("        #");
        for (String word : text.split(" ")) {
            if (line.length() + 1 + word.length() > 110) {
                out.append(line).append('\n');
                line = new StringBuilder("        #");
            }
            line.append(' ').append(word);
        }
        out.append(line).append('\n');
    }

    private static String quote(String s) {
        return '"' + s.replace("\\", "\\\\").replace("\"", "\\\"") + '"';
    }

    private static String number(double d) {
        return d == Math.rint(d) ? String.valueOf((long) d) : String.valueOf(d);
    }

    /** A Prometheus duration: whole hours, minutes or seconds (at least 1s). */
    static String duration(Duration d) {
        long s = Math.max(1, d.toSeconds());
        if (s % 3600 == 0) {
            return s / 3600 + "h";
        }
        return s % 60 == 0 ? s / 60 + "m" : s + "s";
    }
}
