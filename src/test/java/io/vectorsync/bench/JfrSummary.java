package io.vectorsync.bench;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import jdk.jfr.consumer.RecordedEvent;
import jdk.jfr.consumer.RecordedFrame;
import jdk.jfr.consumer.RecordedStackTrace;
import jdk.jfr.consumer.RecordedThread;
import jdk.jfr.consumer.RecordingFile;

/**
 * Where the relay's wall-clock time goes, from a flight recording of a benchmark run: for the relay's
 * thread and for the ceiling loop's thread, time spent waiting for PostgreSQL (socket reads and writes), parked
 * (between polls) and on the CPU (execution samples), each by the vectorsync method responsible (the
 * innermost {@code io.vectorsync} frame), plus the hottest Java methods. Run on its own with
 * {@code java ... io.vectorsync.bench.JfrSummary relay.jfr}.
 */
public final class JfrSummary {

    private static final String OWN = "io.vectorsync.";
    private static final String BENCH = "io.vectorsync.bench.";

    private JfrSummary() {}

    public static void main(String[] args) throws IOException {
        System.out.println(summarize(Path.of(args[0]), Instant.MIN, Instant.MAX));
    }

    /** Per-thread totals by step. */
    static final class Totals {
        final Map<String, Long> dbWaitNanos = new HashMap<>();
        final Map<String, Integer> dbWaitCount = new HashMap<>();
        final Map<String, Long> parkedNanos = new HashMap<>();
        final Map<String, Integer> cpuByStep = new HashMap<>();
        final Map<String, Integer> cpuByTop = new HashMap<>();
        int samples;
    }

    /** The relay thread's events are counted between {@code from} and {@code to} (the relay phase). */
    public static String summarize(Path recording, Instant from, Instant to) throws IOException {
        List<RecordedEvent> events = RecordingFile.readAllEvents(recording);
        Set<Long> relayThreads = new HashSet<>();
        for (RecordedEvent e : events) {
            RecordedThread t = thread(e);
            if (t != null && e.getStackTrace() != null && mentions(e.getStackTrace(), "io.vectorsync.relay.Relay")) {
                relayThreads.add(t.getJavaThreadId());
            }
        }
        Totals relay = new Totals();
        Totals ceiling = new Totals();
        for (RecordedEvent e : events) {
            RecordedThread t = thread(e);
            RecordedStackTrace st = e.getStackTrace();
            if (t == null || st == null) {
                continue;
            }
            Totals into;
            if (relayThreads.contains(t.getJavaThreadId())) {
                if (e.getStartTime().isBefore(from) || e.getStartTime().isAfter(to)) {
                    continue;
                }
                into = relay;
            } else if (mentions(st, "RelayThroughputBench.ceiling")) {
                into = ceiling;
            } else {
                continue;
            }
            String step = step(st);
            switch (e.getEventType().getName()) {
                case "jdk.SocketRead", "jdk.SocketWrite" -> {
                    String call = step + " → " + jdbcCall(st);
                    into.dbWaitNanos.merge(call, e.getDuration().toNanos(), Long::sum);
                    into.dbWaitCount.merge(call, 1, Integer::sum);
                }
                case "jdk.ThreadPark", "jdk.ThreadSleep", "jdk.JavaMonitorWait" ->
                        into.parkedNanos.merge(step, e.getDuration().toNanos(), Long::sum);
                case "jdk.ExecutionSample" -> {
                    into.samples++;
                    into.cpuByStep.merge(step, 1, Integer::sum);
                    into.cpuByTop.merge(top(st), 1, Integer::sum);
                }
                default -> { }
            }
        }
        StringBuilder sb = new StringBuilder();
        section(sb, "Relay thread", relay);
        section(sb, "Ceiling loop", ceiling);
        return sb.toString();
    }

    private static void section(StringBuilder sb, String title, Totals t) {
        long db = t.dbWaitNanos.values().stream().mapToLong(Long::longValue).sum();
        long parked = t.parkedNanos.values().stream().mapToLong(Long::longValue).sum();
        sb.append(String.format(Locale.ROOT, "%n### %s: %.2f s waiting for PostgreSQL, %.2f s parked, %d CPU samples%n%n",
                title, db / 1e9, parked / 1e9, t.samples));
        sb.append("| step (innermost vectorsync method → JDBC call) | waiting for PostgreSQL | socket reads/writes | parked | CPU samples |\n");
        sb.append("| --- | ---: | ---: | ---: | ---: |\n");
        Set<String> steps = new HashSet<>(t.dbWaitNanos.keySet());
        steps.addAll(t.parkedNanos.keySet());
        steps.addAll(t.cpuByStep.keySet());
        steps.stream()
                .sorted((a, b) -> Long.compare(weight(t, b), weight(t, a)))
                .limit(18)
                .forEach(s -> sb.append(String.format(Locale.ROOT, "| %s | %.3f s | %d | %.3f s | %d |%n", s,
                        t.dbWaitNanos.getOrDefault(s, 0L) / 1e9, t.dbWaitCount.getOrDefault(s, 0),
                        t.parkedNanos.getOrDefault(s, 0L) / 1e9, t.cpuByStep.getOrDefault(s, 0))));
        if (!t.cpuByTop.isEmpty()) {
            sb.append("\nHottest Java methods (CPU samples): ");
            sb.append(t.cpuByTop.entrySet().stream()
                    .sorted(Map.Entry.<String, Integer>comparingByValue().reversed())
                    .limit(10)
                    .map(e -> e.getKey() + " " + e.getValue())
                    .collect(Collectors.joining(", ")));
            sb.append('\n');
        }
    }

    private static long weight(Totals t, String step) {
        return t.dbWaitNanos.getOrDefault(step, 0L) + t.parkedNanos.getOrDefault(step, 0L)
                + t.cpuByStep.getOrDefault(step, 0) * Duration.ofMillis(10).toNanos();
    }

    private static RecordedThread thread(RecordedEvent e) {
        if (e.hasField("sampledThread")) {
            return e.getThread("sampledThread");
        }
        return e.getThread();
    }

    private static boolean mentions(RecordedStackTrace st, String needle) {
        for (RecordedFrame f : st.getFrames()) {
            if (f.getMethod() != null && name(f).contains(needle)) {
                return true;
            }
        }
        return false;
    }

    /** The innermost io.vectorsync method on the stack (the benchmark's own frames excepted). */
    private static String step(RecordedStackTrace st) {
        for (RecordedFrame f : st.getFrames()) {
            if (f.getMethod() == null) {
                continue;
            }
            String n = name(f);
            if (n.startsWith(OWN) && !n.startsWith(BENCH + "JfrSummary")) {
                String shortName = n.substring(OWN.length());
                // Lambdas of a method count as the method.
                return shortName.replaceAll("\\$\\$Lambda.*|\\.lambda\\$([A-Za-z0-9_]+)\\$\\d+", ".$1")
                        .replaceAll("\\.\\.", ".");
            }
        }
        return "(outside vectorsync: Camel scheduler, wake-up wait)";
    }

    /** The JDBC driver's entry point on the stack (the outermost org.postgresql frame), e.g. PgConnection.commit. */
    private static String jdbcCall(RecordedStackTrace st) {
        List<RecordedFrame> frames = st.getFrames();
        for (int i = frames.size() - 1; i >= 0; i--) {
            RecordedFrame f = frames.get(i);
            if (f.getMethod() != null && f.getMethod().getType().getName().startsWith("org.postgresql.")) {
                String n = name(f);
                return n.substring(n.lastIndexOf('.', n.lastIndexOf('.') - 1) + 1);
            }
        }
        return "?";
    }

    private static String top(RecordedStackTrace st) {
        List<RecordedFrame> frames = st.getFrames();
        if (frames.isEmpty() || frames.get(0).getMethod() == null) {
            return "?";
        }
        String n = name(frames.get(0));
        int dot = n.lastIndexOf('.', n.lastIndexOf('.') - 1);
        return dot > 0 ? n.substring(dot + 1) : n;
    }

    private static String name(RecordedFrame f) {
        return f.getMethod().getType().getName() + "." + f.getMethod().getName();
    }
}
